"""The parts of the chat screen: prompt, conversation, status bar, history sidebar."""
