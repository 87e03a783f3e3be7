# The chapters' kernels during `make book` (the Makefile copies this file into
# the IPython profile the build's kernels start with: IPYTHONDIR).
# ipykernel 7 logs "Kernel is running over TCP without encryption" at start-up,
# once per executed chapter. The build's kernels talk to myst-nb over the
# loopback interface only, and myst-nb offers no way to configure the kernel
# manager that could provision CurveZMQ keys, so the kernel application logs
# errors only. Cells' own warnings are unaffected: they go to the cell's
# stderr, which the build and tests/clean_cells.py still see.
c = get_config()  # noqa: F821 (IPython's config loader provides it)
c.IPKernelApp.log_level = "ERROR"
