"""One ONNX model from the backbone and a head, and a self-contained bundle to download.

The merged model maps a preprocessed ``image [N, 3, 224, 224]`` to ``probabilities
[N, C]``: the backbone up to its ``embedding`` output, then the head's standardisation,
linear layer and softmax. The ImageNet ``logits`` branch is dropped.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import onnx
from onnx import TensorProto, helper, numpy_helper

from mirada.vision.fingerprint import model_fingerprint, model_precision
from mirada.vision.heads import Head

INPUT_NAME = "image"
EMBEDDING_NAME = "embedding"
OUTPUT_NAME = "probabilities"
PREFIX = "mirada_head/"
PREPROCESSING = {
    "resize": "centre crop 224/256 of the short side, bicubic to 224x224",
    "scale": "(rgb - 127) / 128",
    "layout": "NCHW",
    "dtype": "float32",
}
INPUT = {"name": INPUT_NAME, "shape": ["batch", 3, 224, 224], "dtype": "float32"}
# Fixed timestamps make the same model and head give the same bundle bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# The README's runnable example; the prose around it is written in the reader's language.
README_EXAMPLE = """\
    import json, sys
    import numpy as np, onnxruntime as ort
    from PIL import Image, ImageOps

    classes = json.load(open("model.json"))["classes"]
    session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    img = ImageOps.exif_transpose(Image.open(sys.argv[1])).convert("RGB")
    crop = min(img.size) * 224 / 256
    left, top = (img.width - crop) / 2, (img.height - crop) / 2
    img = img.resize((224, 224), Image.BICUBIC, box=(left, top, left + crop, top + crop))
    x = ((np.asarray(img, dtype=np.float32) - 127) / 128).transpose(2, 0, 1)[None]
    probabilities = session.run(["probabilities"], {"image": x})[0][0]
    for i in np.argsort(-probabilities)[:3]:
        print(f"{classes[i]}: {probabilities[i]:.3f}")
"""


def merged_classifier(backbone_path: Path, head: Head) -> bytes:
    """The backbone at ``backbone_path`` with ``head`` on its embedding, as ONNX bytes."""
    model = onnx.load(str(backbone_path))
    graph = model.graph
    [image_input] = [value for value in graph.input if value.name == INPUT_NAME]
    batch = image_input.type.tensor_type.shape.dim[0]
    tensors = {"mean": head.mean, "scale": head.scale, "weights": head.weights, "bias": head.bias}
    graph.initializer.extend(
        numpy_helper.from_array(array, PREFIX + name) for name, array in tensors.items()
    )
    graph.node.extend(
        [
            helper.make_node(
                "Sub", [EMBEDDING_NAME, PREFIX + "mean"], [PREFIX + "centred"], PREFIX + "sub"
            ),
            helper.make_node(
                "Div",
                [PREFIX + "centred", PREFIX + "scale"],
                [PREFIX + "standardised"],
                PREFIX + "div",
            ),
            helper.make_node(
                "Gemm",
                [PREFIX + "standardised", PREFIX + "weights", PREFIX + "bias"],
                [PREFIX + "logits"],
                PREFIX + "gemm",
                transB=1,
            ),
            helper.make_node(
                "Softmax", [PREFIX + "logits"], [OUTPUT_NAME], PREFIX + "softmax", axis=1
            ),
        ]
    )
    output = helper.make_tensor_value_info(
        OUTPUT_NAME, TensorProto.FLOAT, [batch.dim_param or batch.dim_value, len(head.class_names)]
    )
    del graph.output[:]
    graph.output.append(output)
    _prune(graph)
    onnx.helper.set_model_props(
        model,
        {"classes": json.dumps(head.class_names), "preprocessing": json.dumps(PREPROCESSING)},
    )
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def export_bundle(
    backbone_path: Path, head: Head, *, name: str, version: int, readme_intro: str
) -> bytes:
    """A ZIP with ``model.onnx``, ``model.json`` (classes, input, preprocessing, and the
    backbone inside: its version and precision) and a README: ``readme_intro`` followed by a
    runnable Python example."""
    description = {
        "name": name,
        "version": version,
        "classes": list(head.class_names),
        "input": INPUT,
        "preprocessing": PREPROCESSING,
        "output": OUTPUT_NAME,
        "backbone": {
            "name": "efficientnet-lite0",
            "precision": model_precision(backbone_path),
            "version": model_fingerprint(backbone_path),
        },
    }
    readme = readme_intro.rstrip() + "\n\n" + README_EXAMPLE
    files = {
        "model.onnx": merged_classifier(backbone_path, head),
        "model.json": json.dumps(description, indent=2, ensure_ascii=False).encode(),
        "README.txt": readme.encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for filename, content in files.items():
            entry = zipfile.ZipInfo(filename, date_time=ZIP_DATE)
            bundle.writestr(entry, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _prune(graph: onnx.GraphProto) -> None:
    """Drop the nodes and initialisers that no graph output depends on."""
    needed = {value.name for value in graph.output}
    kept = []
    for node in reversed(graph.node):
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    initialisers = [tensor for tensor in graph.initializer if tensor.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initialisers)
    value_info = [value for value in graph.value_info if value.name in needed]
    del graph.value_info[:]
    graph.value_info.extend(value_info)
