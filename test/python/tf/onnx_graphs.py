"""Small ONNX graphs built with onnx.helper: one that exercises every ONNX rule whose
semantics can go wrong (padding modes, transposed Gemm, pooling options, opset-18 inputs),
one with unsupported operators, one with a symbolic batch."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
IR_VERSION = 9  # what onnxruntime 1.30 reads (helper.make_model writes the newest)


def _init(name: str, array) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


def coverage_model() -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    f = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    initializers = [
        _init("w1", f(4, 3, 3, 3)), _init("b1", f(4)),
        _init("bn_scale", rng.uniform(0.5, 1.5, 4).astype(np.float32)), _init("bn_bias", f(4)),
        _init("bn_mean", f(4) * 0.1), _init("bn_var", rng.uniform(0.5, 1.5, 4).astype(np.float32)),
        _init("clip_min", np.array(0.0, np.float32)), _init("clip_max", np.array(6.0, np.float32)),
        _init("pads", np.array([0, 0, 1, 0, 0, 0, 0, 2], np.int64)), _init("pad_value", np.array(0.5, np.float32)),
        _init("w_grouped", f(4, 2, 1, 1)),
        _init("split_sizes", np.array([1, 3], np.int64)),
        _init("reduce_axes", np.array([2, 3], np.int64)),
        _init("gemm_b", f(4, 5)), _init("gemm_c", f(5)),
        _init("matmul_b", f(5, 3)),
        _init("three", np.array([3.0], np.float32)), _init("half", np.array(0.5, np.float32)),
        _init("unsqueeze_axes", np.array([1], np.int64)),
        _init("row", f(1, 3)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="stem/conv/Conv", auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"],
                         name="stem/bn/BatchNormalization", epsilon=1e-3),
        helper.make_node("Clip", ["bn", "clip_min", "clip_max"], ["clipped"], name="stem/act/Clip"),
        helper.make_node("HardSigmoid", ["clipped"], ["gate"], name="stem/gate/HardSigmoid", alpha=1 / 6, beta=0.5),
        helper.make_node("Mul", ["clipped", "gate"], ["swished"], name="stem/Mul"),
        helper.make_node("MaxPool", ["swished"], ["pooled"], name="pool/MaxPool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], ceil_mode=1),
        helper.make_node("AveragePool", ["swished"], ["averaged"], name="avg/AveragePool", kernel_shape=[2, 2],
                         strides=[1, 1], pads=[0, 0, 1, 1], count_include_pad=1),
        helper.make_node("Pad", ["averaged", "pads", "pad_value"], ["padded"], name="pad/Pad", mode="constant"),
        helper.make_node("Conv", ["padded", "w_grouped"], ["grouped"], name="grouped/Conv", group=2,
                         strides=[2, 2], dilations=[1, 1]),
        helper.make_node("Split", ["grouped", "split_sizes"], ["s1", "s2"], name="split/Split", axis=1),
        helper.make_node("Concat", ["s2", "s1"], ["shuffled"], name="concat/Concat", axis=1),
        helper.make_node("Transpose", ["shuffled"], ["nhwc"], name="t1/Transpose", perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["nhwc"], ["nchw"], name="t2/Transpose", perm=[0, 3, 1, 2]),
        helper.make_node("Identity", ["nchw"], ["same"], name="id/Identity"),
        helper.make_node("Add", ["same", "pooled"], ["summed"], name="res/Add"),
        helper.make_node("ReduceMean", ["summed", "reduce_axes"], ["mean"], name="head/ReduceMean", keepdims=1),
        helper.make_node("GlobalAveragePool", ["summed"], ["gap"], name="head/GlobalAveragePool"),
        helper.make_node("Sub", ["mean", "gap"], ["zero"], name="head/Sub"),
        helper.make_node("Flatten", ["mean"], ["flat"], name="head/Flatten", axis=1),
        helper.make_node("Gemm", ["flat", "gemm_b", "gemm_c"], ["logits"], name="fc/Gemm"),
        helper.make_node("Tanh", ["logits"], ["t"], name="fc/Tanh"),
        helper.make_node("MatMul", ["t", "matmul_b"], ["projected"], name="proj/MatMul"),
        helper.make_node("Div", ["projected", "three"], ["scaled"], name="proj/Div"),
        helper.make_node("Sub", ["scaled", "half"], ["shifted"], name="proj/Sub"),
        helper.make_node("Mul", ["row", "shifted"], ["weighted"], name="proj/Mul"),
        helper.make_node("Sigmoid", ["weighted"], ["sig"], name="proj/Sigmoid"),
        helper.make_node("Relu", ["sig"], ["r"], name="proj/Relu"),
        helper.make_node("Softmax", ["r"], ["probabilities"], name="out/Softmax", axis=-1),
        helper.make_node("Unsqueeze", ["probabilities", "unsqueeze_axes"], ["expanded"], name="out/Unsqueeze"),
        helper.make_node("Flatten", ["zero"], ["zero_flat"], name="out/Flatten"),
    ]
    graph = helper.make_graph(
        nodes, "coverage",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 10, 11])],
        [helper.make_tensor_value_info("expanded", TensorProto.FLOAT, [2, 1, 3]),
         helper.make_tensor_value_info("zero_flat", TensorProto.FLOAT, [2, 4])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION, producer_name="edgespec-tests")
    onnx.checker.check_model(model)
    return model


def unsupported_model() -> onnx.ModelProto:
    w = numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="/features/conv/Conv"),
        helper.make_node("Round", ["c"], ["l"], name="/features/act/Round"),
        helper.make_node("Hardmax", ["l"], ["e"], name="/head/hardmax/Hardmax"),
        helper.make_node("Relu", ["e"], ["y"], name="/head/relu/Relu"),
    ]
    graph = helper.make_graph(nodes, "odd", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)


def leaky_relu_model() -> onnx.ModelProto:
    """Conv, LeakyRelu with alpha 0.1, Conv, LeakyRelu with the default alpha (0.01)."""
    rng = np.random.default_rng(3)
    w1 = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((2, 4, 1, 1)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c"], name="/features/conv/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("LeakyRelu", ["c"], ["l"], name="/features/act/LeakyRelu", alpha=0.1),
        helper.make_node("Conv", ["l", "w2"], ["d"], name="/head/conv/Conv"),
        helper.make_node("LeakyRelu", ["d"], ["y"], name="/head/act/LeakyRelu"),
    ]
    graph = helper.make_graph(nodes, "leaky", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 6, 6])], [w1, w2])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


def symbolic_batch_model() -> onnx.ModelProto:
    w = numpy_helper.from_array(np.full((2, 3, 3, 3), 0.1, np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "dynamic", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 8, 8])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)


def activations_model() -> onnx.ModelProto:
    """Conv, PRelu (slope [C, 1, 1]), Elu, Selu (default and other alpha/gamma), Softplus, Mish,
    Softsign, Abs, Sqrt, Log, Exp, Pow, Neg, Max of three inputs (one a constant) and of one, Min, LogSoftmax."""
    rng = np.random.default_rng(5)
    inits = [
        _init("w", rng.standard_normal((4, 3, 3, 3)).astype(np.float32)),
        _init("slope", np.array([0.05, 0.1, 0.2, 0.3], np.float32).reshape(4, 1, 1)),
        _init("one", np.array(1.0, np.float32)),
        _init("half", np.array(0.5, np.float32)),
        _init("three", np.array(3.0, np.float32)),
        _init("floor", np.array([-0.5, -0.2, 0.0, 0.1], np.float32).reshape(4, 1, 1)),
        _init("cap", np.array([0.6], np.float32)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="/features/conv/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("PRelu", ["c", "slope"], ["p"], name="/features/prelu/PRelu"),
        helper.make_node("Elu", ["p"], ["e"], name="/features/elu/Elu", alpha=0.5),
        helper.make_node("Selu", ["e"], ["s"], name="/features/selu/Selu"),
        helper.make_node("Selu", ["s"], ["s2"], name="/features/selu2/Selu", alpha=1.5, gamma=0.8),
        helper.make_node("Softplus", ["s2"], ["sp"], name="/features/softplus/Softplus"),
        helper.make_node("Sub", ["sp", "one"], ["spm"], name="/features/shift/Sub"),
        helper.make_node("Mish", ["spm"], ["mi"], name="/features/mish/Mish"),
        helper.make_node("Softsign", ["mi"], ["ss"], name="/features/softsign/Softsign"),
        helper.make_node("Abs", ["ss"], ["ab"], name="/math/abs/Abs"),
        helper.make_node("Sqrt", ["ab"], ["sq"], name="/math/sqrt/Sqrt"),
        helper.make_node("Add", ["sq", "half"], ["sqh"], name="/math/add/Add"),
        helper.make_node("Log", ["sqh"], ["lg"], name="/math/log/Log"),
        helper.make_node("Exp", ["lg"], ["ex"], name="/math/exp/Exp"),
        helper.make_node("Pow", ["ex", "three"], ["pw"], name="/math/pow/Pow"),
        helper.make_node("Neg", ["pw"], ["ng"], name="/math/neg/Neg"),
        helper.make_node("Max", ["ng", "ss", "floor"], ["mx"], name="/head/max/Max"),
        helper.make_node("Min", ["mx", "cap"], ["mn"], name="/head/min/Min"),
        helper.make_node("Max", ["mn"], ["mn1"], name="/head/max_of_one/Max"),
        helper.make_node("LogSoftmax", ["mn1"], ["y"], name="/head/log_softmax/LogSoftmax", axis=1),
    ]
    graph = helper.make_graph(nodes, "activations", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model
