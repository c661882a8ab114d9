"""Student and speech models on disk: which versions exist, which one answers, and how they arrive.

Everything here runs when a user asks (the active version is read at every query; the first
run pulls the default student), so it lives in `assistant/`. Training and benchmarks live in
`model/`, which imports from here, never the other way.
"""
