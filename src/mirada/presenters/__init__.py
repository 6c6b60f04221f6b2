"""The words of Mirada, shared by its doors (pages, CLI, API): one module per concept.

Services speak in codes and numbers; presenters turn them into sentences in the reader's
language. Nothing here reads the database or changes state.
"""
