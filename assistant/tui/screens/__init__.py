"""Screens pushed over the chat: consent before anything leaves, help, choosing a student, distilling it."""
