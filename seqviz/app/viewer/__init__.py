"""The viewer model, no widgets: what is shown (runs, traces), the cursor and selections, playback, and
the session that loads models and runs text in a worker."""
