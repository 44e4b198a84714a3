"""pycamd's live processing: the processor and its thread's worker, live DOAS, the settings
read from pycamd's config, and the references a restarted daemon finds again. Importing
this package loads nothing."""
