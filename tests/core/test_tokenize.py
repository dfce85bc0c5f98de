from seqviz.core.tokenize import UNK, Tokenizer


def test_word_tokenizer_maps_unknown_words_to_unk_and_reports_them():
    tok = Tokenizer(["i", "speak", "fluent", "french", "."], "word", lowercase=True)
    assert tok.labels("I speak fluent Klingon .") == ["i", "speak", "fluent", UNK, "."]
    assert tok.unknown("I speak fluent Klingon . Klingon") == ["klingon"]


def test_accented_input_falls_back_to_the_plain_word_the_model_knows():
    tok = Tokenizer(["naci", "en", "espana", "hablo", "frances"], "word", lowercase=True)
    assert tok.labels("Nací en España") == ["naci", "en", "espana"]
    assert tok.unknown("nací en españa hablo francés") == []


def test_an_accented_word_in_the_vocabulary_is_kept_as_it_is():
    tok = Tokenizer(["veintidós", "veintidos"], "word")
    assert tok.encode("veintidós veintidos") == [0, 1]


def test_character_tokenizer_round_trip():
    tok = Tokenizer(list("abc "), "char")
    assert tok.join(tok.labels("ab ca")) == "ab ca"
    assert tok.labels("abd") == ["a", "b", UNK]
