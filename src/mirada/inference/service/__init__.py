"""The inference service: ``python -m mirada.inference.service`` (``mirada inference``).

Starlette on uvicorn; it loads onnxruntime, numpy, Pillow, prometheus_client and redis,
never Flask, SQLAlchemy or torch.
"""
