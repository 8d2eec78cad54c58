"""Bad input to ops: the exception PyTorch raises (its class), with a message
that names the argument or the shapes and values involved."""

import pytest
import torch

import gradlab
from conftest import gpu


def _both_raise(fn, exc, *match):
    """``fn(gradlab)`` raises ``exc`` with every string of ``match`` in its
    message, and ``fn(torch)`` raises the same class (PyTorch is the oracle
    for the class, not for the wording)."""
    with pytest.raises(exc) as err:
        fn(gradlab)
    for m in match:
        assert m in str(err.value), f"{m!r} not in {str(err.value)!r}"
    with pytest.raises(exc):
        fn(torch)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "eq", "lt",
                                "logical_and"])
def test_broadcast_mismatch_names_both_shapes(op):
    _both_raise(lambda m: getattr(m, op)(m.ones(3, 4), m.ones(2, 1, 5)), RuntimeError, "(3, 4)", "(2, 1, 5)")


@pytest.mark.parametrize("expr", ["a + b", "b - a", "a * b", "a / b", "a ** b", "a == b", "a >= b"])
def test_broadcast_mismatch_through_operators(expr):
    def fn(m):
        a, b = m.ones(2, 3), m.ones(3, 2)  # noqa: F841 - used by eval
        return eval(expr)  # noqa: S307 - fixed expressions

    _both_raise(fn, RuntimeError, "(2, 3)", "(3, 2)")


def test_broadcast_mismatch_in_where_names_the_shapes():
    _both_raise(lambda m: m.where(m.ones(2, 3) > 0, m.ones(4), m.ones(3)), RuntimeError, "(4,)")


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3), (4,)), ((3,), (4, 2)), ((2, 2, 3), (3, 3, 2))],
                         ids=str)
def test_matmul_mismatch_names_both_shapes(shapes):
    _both_raise(lambda m: m.ones(*shapes[0]) @ m.ones(*shapes[1]), RuntimeError,
                str(shapes[0]), str(shapes[1]))


@pytest.mark.parametrize("call", [
    lambda m: m.ones(2, 3).sum(2),
    lambda m: m.ones(2, 3).sum((0, -3)),
    lambda m: m.ones(2, 3).mean(-3),
    lambda m: m.ones(2, 3).var(5),
    lambda m: m.ones(2, 3).amax(2),
    lambda m: m.ones(2, 3).max(2),
    lambda m: m.ones(2, 3).argmax(-3),
    lambda m: m.ones(2, 3).softmax(2),
    lambda m: m.ones(2, 3).log_softmax(-3),
    lambda m: m.ones(2, 3).logsumexp(3),
    lambda m: m.ones(2, 3).transpose(0, 2),
    lambda m: m.ones(2, 3).unsqueeze(3),
    lambda m: m.ones(2, 3).squeeze(2),
    lambda m: m.ones(2, 3).flatten(0, 2),
    lambda m: m.ones(2, 3).flip(2),
    lambda m: m.ones(2, 3).split(1, 2),
    lambda m: m.ones(2, 3).chunk(2, -3),
    lambda m: m.ones(2, 3).unbind(2),
    lambda m: m.ones(2, 3).gather(2, m.zeros(2, 3, dtype=m.int64)),
    lambda m: m.ones(2, 3).index_select(2, m.zeros(1, dtype=m.int64)),
    lambda m: m.cat([m.ones(2, 3), m.ones(2, 3)], 2),
    lambda m: m.stack([m.ones(2, 3), m.ones(2, 3)], 3),
    lambda m: m.ones(2, 3).permute(0, 2),
], ids=lambda f: "")
def test_bad_dim_raises_index_error_naming_the_dim(call):
    with pytest.raises(IndexError, match="out of range|dimension"):
        call(gradlab)
    with pytest.raises((IndexError, RuntimeError)):
        call(torch)


def test_bad_dim_message_names_range_and_value():
    with pytest.raises(IndexError) as err:
        gradlab.ones(2, 3).sum(dim=5)
    assert "[-2, 1]" in str(err.value) and "5" in str(err.value)


@pytest.mark.parametrize("index", [
    lambda m: m.tensor([0.0, 1.0]),
    lambda m: (slice(None), m.tensor([1.5])),
], ids=["float tensor", "float tensor after slice"])
def test_float_index_tensor(index):
    _both_raise(lambda m: m.ones(3, 3)[index(m)], IndexError, "float")


def test_float_list_index():
    with pytest.raises(IndexError, match="float"):
        gradlab.ones(3)[[0.5, 1.0]]


@pytest.mark.parametrize("index", [3, -4, (0, 3), [0, 3], (slice(None), [-4])], ids=str)
def test_index_out_of_range(index):
    _both_raise(lambda m: m.ones(3, 3)[index], IndexError)


@pytest.mark.parametrize("name", ["gather", "scatter_add"])
@pytest.mark.parametrize("bad", [3, -1])
def test_gather_scatter_out_of_range_index_names_it(name, bad):
    def fn(m):
        x = m.ones(2, 3)
        index = m.tensor([[0, bad], [1, 2]])
        return x.gather(1, index) if name == "gather" else x.scatter_add(1, index, m.ones(2, 2))

    _both_raise(fn, RuntimeError, str(bad), "size 3")


@pytest.mark.parametrize("name", ["gather", "scatter_add"])
def test_gather_scatter_need_an_integer_index_of_matching_rank(name):
    def call(m, index):
        x = m.ones(2, 3)
        return x.gather(1, index) if name == "gather" else x.scatter_add(1, index, m.ones(2, 3))

    with pytest.raises((TypeError, RuntimeError), match="index"):
        call(gradlab, gradlab.tensor([[0.0, 1.0]]))
    with pytest.raises(RuntimeError, match="dimensions"):
        call(gradlab, gradlab.tensor([0, 1]))
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor([0, 1]))


@pytest.mark.parametrize("labels,num_classes", [([0, 3], 3), ([0, -1], 3), ([5], 2)], ids=str)
def test_one_hot_out_of_range(labels, num_classes):
    with pytest.raises(RuntimeError) as err:
        gradlab.one_hot(gradlab.tensor(labels), num_classes)
    assert "num_classes" in str(err.value) and str(num_classes) in str(err.value)
    with pytest.raises(RuntimeError):
        torch.nn.functional.one_hot(torch.tensor(labels), num_classes)


def test_one_hot_of_float_tensor():
    with pytest.raises((TypeError, RuntimeError), match="index"):
        gradlab.one_hot(gradlab.tensor([0.0, 1.0]), 3)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_integer_tensor_cannot_require_grad(dtype):
    with pytest.raises(RuntimeError, match="floating point"):
        gradlab.tensor([1, 0], dtype=getattr(gradlab, dtype), requires_grad=True)
    with pytest.raises(RuntimeError, match=dtype):
        gradlab.tensor([1, 0], dtype=getattr(gradlab, dtype)).requires_grad_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 0], dtype=getattr(torch, dtype), requires_grad=True)


def test_integer_results_of_float_ops_do_not_require_grad():
    x = gradlab.tensor([1.5, -2.0], requires_grad=True)
    assert not x.argmax().requires_grad
    assert not (x > 0).requires_grad
    assert not x.max(0).indices.requires_grad


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: m.ones(2, 3).reshape(4, 2), RuntimeError, "6"),
    (lambda m: m.ones(2, 3).view(-1, -1), RuntimeError, "[-1, -1]"),
    (lambda m: m.ones(2, 3).reshape(4, -1), RuntimeError, "6"),
    (lambda m: m.ones(2, 3).expand(3, 3), RuntimeError, "(3)"),
    (lambda m: m.ones(2, 3).expand(3), RuntimeError, "number of sizes"),
    (lambda m: m.ones(2, 3).permute(0, 0), RuntimeError, "repeated dim"),
    (lambda m: m.ones(2, 3).permute(0), RuntimeError, "number of dims"),
    (lambda m: m.ones(2, 3).repeat(2), RuntimeError, "number of repeat dims"),
    (lambda m: m.ones(2, 3).split([1, 1], 1), RuntimeError, "[1, 1]"),
    (lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]), RuntimeError, "(2, 4)"),
    (lambda m: m.cat([]), ValueError, "non-empty"),
    (lambda m: m.stack([]), RuntimeError, "non-empty"),
    (lambda m: m.stack([m.ones(2, 3), m.ones(3, 2)]), RuntimeError, "[3, 2]"),
    (lambda m: m.ones(2, 3).t().t().sum(0).unsqueeze(0).expand(2, 2, 3).t(), RuntimeError, "3D"),
    (lambda m: m.mm(m.ones(2, 3), m.ones(3)), RuntimeError, "(3,)"),
    (lambda m: m.bmm(m.ones(2, 3, 4), m.ones(3, 4, 2)), RuntimeError, "(3, 4, 2)"),
    (lambda m: m.dot(m.ones(3), m.ones(4)), RuntimeError, "(4,)"),
    (lambda m: m.ones(2).clamp(), RuntimeError, "min"),
    (lambda m: m.ones(2, dtype=m.int64).mean(), RuntimeError, "int64"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_shape_and_argument_errors(call, exc, match):
    _both_raise(call, exc, match)


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: m.where(m.tensor([1, 0]), m.ones(2), m.zeros(2)), RuntimeError, "boolean"),
    (lambda m: m.ones(2).masked_fill(m.tensor([1, 0]), 2.0), RuntimeError, "boolean"),
    (lambda m: m.ones(2).masked_fill(m.tensor([True, False]), m.ones(2)), RuntimeError, "0-dim"),
    (lambda m: m.tensor([1, 2]) ** -1, RuntimeError, "negative integer powers"),
    (lambda m: m.ones(3).expand(-1, 3), RuntimeError, "-1"),
    (lambda m: m.zeros(0).argmax(), IndexError, "argmax"),
    (lambda m: m.zeros(2, 0).amin(1), IndexError, "min"),
    (lambda m: m.zeros(2, 0).max(1), IndexError, "max"),
    (lambda m: m.zeros(2, 0).amax(), RuntimeError, "max"),
    (lambda m: m.tensor(2.0).sum(1), IndexError, "range"),
    (lambda m: m.tensor(2.0).softmax(-2), IndexError, "range"),
    (lambda m: -m.tensor([True, False]), RuntimeError, "bool"),
    (lambda m: m.cat([m.tensor(1.0), m.tensor(2.0)]), RuntimeError, "zero-dimensional"),
    (lambda m: m.ones(3, 3).index_select(0, m.tensor([[0, 1]])), IndexError, "vector"),
    (lambda m: m.ones(3, 3).index_select(1, m.tensor([0, 3])), RuntimeError, "3"),
    (lambda m: m.tensor([1, 2, 3]).var(), RuntimeError, "floating point"),
    (lambda m: m.tensor([1, 2, 3]).std(), RuntimeError, "floating point"),
    (lambda m: m.tensor(2.0).max(1), IndexError, "range"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_refused_as_pytorch_refuses(call, exc, match):
    _both_raise(call, exc, match)


def test_gradlab_only_argument_errors():
    with pytest.raises(ValueError, match="rounding_mode"):
        gradlab.div(gradlab.ones(2), 2, rounding_mode="round")
    with pytest.raises(ValueError, match="split_size"):
        gradlab.ones(4).split(0)
    with pytest.raises(ValueError, match="chunks"):
        gradlab.ones(4).chunk(0)
    with pytest.raises(ValueError, match="pad"):
        gradlab.pad(gradlab.ones(2), (1, 1, 1))
    with pytest.raises(ValueError, match="unbiased"):
        gradlab.ones(3).var(unbiased=True, correction=0)
    with pytest.raises(TypeError, match="shape"):
        gradlab.ones(2, 3).reshape(2.0, 3)
    with pytest.raises(TypeError, match="operand"):
        gradlab.ones(2) + "a"
    with pytest.raises(TypeError, match="dim"):
        gradlab.ones(2, 3).sum(dim=1.0)


def test_empty_max_raises():
    _both_raise(lambda m: m.zeros(0, 3).amax(), RuntimeError)
    _both_raise(lambda m: m.zeros(0, 3).argmax(0), IndexError)


@gpu
def test_op_between_devices_raises():
    cpu = gradlab.ones(3)
    cuda = gradlab.ones(3).to("cuda")
    for fn in (lambda a, b: a + b, lambda a, b: a * b, gradlab.maximum, lambda a, b: a @ b,
               lambda a, b: gradlab.cat([a, b])):
        with pytest.raises(RuntimeError, match="device"):
            fn(cpu, cuda)
        with pytest.raises(RuntimeError, match="device"):
            fn(cuda, cpu)

