"""Rubricate's engine: reads an essay against a rubric and a reference corpus.

Imports nothing from app/ or Streamlit.
"""
