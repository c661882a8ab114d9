"""The chat app: a Textual terminal assistant that shows where every answer came from.

    apprentice                      # opens it
    python -m assistant.tui         # the same, without the command-line wrapper

app.py wires the pieces; screens/ holds the modal screens (consent, help, model choice, distillation),
widgets/ the parts of the main screen (prompt, conversation, status bar, history).
"""
