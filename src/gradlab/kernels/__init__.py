"""gradlab.kernels: the compiled hot loops (DESIGN.md section 2a).

Each kernel is a short function written as the textbook loop, its formula
and paper in the docstring, compiled with Numba on the CPU
(:func:`gradlab.kernels._jit.cpu_kernel`). Beside each stays the plain NumPy
expression of the same math: the reference its tests compare against, and
the path for arrays a kernel does not take (CuPy arrays, other dtypes).
Kernels make the memory layout they assume (``numpy.ascontiguousarray``)
rather than assume it; nothing outside this package hands raw array memory
to compiled code.
"""
