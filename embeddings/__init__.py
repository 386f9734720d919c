"""Embedding models, vectors and FAISS indexes; knows nothing of questions or answers."""
