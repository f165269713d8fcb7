#!/usr/bin/python3
"""Makes the small ONNX models that sluice's model-shape tests serve, and
golden.json: each model's outputs on fixed input rows, computed here by the
framework that defines the model (PyTorch's forward pass, or numpy for the
graph built with onnx.helper), not by ONNX Runtime.

Run it with Debian's python3-torch, python3-onnx and python3-numpy
(apt-get install python3-torch python3-onnx):

    /usr/bin/python3 inference/testdata/models/generate.py

The tests do not need Python: they read the committed .onnx files and
golden.json.
"""
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


class MLP(torch.nn.Module):
    """4 -> 8 (tanh) -> 3, ending as the export asks."""

    def __init__(self, end):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 8)
        self.out = torch.nn.Linear(8, 3)
        self.end = end

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        z = self.out(h)
        if self.end == "softmax":
            return torch.softmax(z, dim=1)
        if self.end == "logits+embedding":
            return z, h
        raise ValueError(self.end)


class Scorer(torch.nn.Module):
    """4 -> 1: a regression score."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.lin(x)


def rows(n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=g) * 2


def export(model, example, path, inputs, outputs, dynamic):
    model.eval()
    axes = None
    if dynamic:
        axes = {name: {0: "N"} for name in inputs + outputs}
    torch.onnx.export(model, example, os.path.join(HERE, path), input_names=inputs,
                      output_names=outputs, dynamic_axes=axes, opset_version=OPSET)


def tolist(t):
    return t.detach().numpy().astype(np.float64).tolist()


def string_model():
    """city (string [N, 1]) and amount (float [N, 1]): the city through a
    CategoryMapper to an index (unknown: 3), one-hot with a tiny weight per
    city, plus amount times a weight, as two classes' logits; a Softmax gives
    "probabilities" and an ArgMax the int64 "label" [N]."""
    cities = ["paris", "oslo", "rome"]
    w_city = np.array([[0.5, -0.5], [-1.0, 1.0], [0.25, 0.0], [0.0, 0.0]], dtype=np.float32)
    w_amount = np.array([[0.01, -0.01]], dtype=np.float32)
    nodes = [
        helper.make_node("CategoryMapper", ["city"], ["city_id"], domain="ai.onnx.ml",
                         cats_strings=cities, cats_int64s=[0, 1, 2], default_int64=3),
        helper.make_node("Reshape", ["city_id", "flat"], ["city_flat"]),
        helper.make_node("Gather", ["w_city", "city_flat"], ["city_logits"], axis=0),
        helper.make_node("MatMul", ["amount", "w_amount"], ["amount_logits"]),
        helper.make_node("Add", ["city_logits", "amount_logits"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "string_input",
        [helper.make_tensor_value_info("city", TensorProto.STRING, ["N", 1]),
         helper.make_tensor_value_info("amount", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
         helper.make_tensor_value_info("label", TensorProto.INT64, ["N"])],
        [helper.make_tensor("w_city", TensorProto.FLOAT, w_city.shape, w_city.flatten()),
         helper.make_tensor("w_amount", TensorProto.FLOAT, w_amount.shape, w_amount.flatten()),
         helper.make_tensor("flat", TensorProto.INT64, [1], [-1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("ai.onnx.ml", 2)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "string_input.onnx"))

    city_rows = ["paris", "oslo", "rome", "lima", "oslo", "paris"]
    amount_rows = [10.0, 250.0, -40.0, 75.5, 0.0, 1000.0]
    ids = [cities.index(c) if c in cities else 3 for c in city_rows]
    logits = w_city[ids].astype(np.float64) + np.array(amount_rows)[:, None] * w_amount.astype(np.float64)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    return {"city": city_rows, "amount": amount_rows, "probabilities": probs.tolist(),
            "label": logits.argmax(axis=1).tolist()}


def main():
    torch.manual_seed(7)
    golden = {}
    x = rows(6, 1)

    soft = MLP("softmax")
    export(soft, x[:1], "torch_softmax.onnx", ["features"], ["probabilities"], True)
    golden["torch_softmax"] = {"features": tolist(x), "probabilities": tolist(soft(x))}

    logit = MLP("logits+embedding")
    export(logit, x[:1], "torch_logits.onnx", ["features"], ["logits", "embedding"], True)
    z, h = logit(x)
    golden["torch_logits"] = {"features": tolist(x), "logits": tolist(z),
                              "probabilities": tolist(torch.softmax(z, dim=1)), "embedding": tolist(h)}

    one = Scorer()
    export(one, x[:1], "torch_fixed_batch1.onnx", ["features"], ["score"], False)
    golden["torch_fixed_batch1"] = {"features": tolist(x), "score": tolist(one(x))}

    four = MLP("softmax")
    export(four, x[:4], "torch_fixed_batch4.onnx", ["features"], ["probabilities"], False)
    golden["torch_fixed_batch4"] = {"features": tolist(x), "probabilities": tolist(four(x))}

    golden["string_input"] = string_model()

    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
