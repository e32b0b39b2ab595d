"""Deployment and sharing: ONNX export (``onnx``, needs requirements/deploy.txt) and export to
HF transformers (``hf``), both from the plain definitions (``plain``)."""
