"""The IR: the hash-consed graph of a trace (graph.py) and the tracing context (trace.py).

It sits below the tensor and the ops: eager ops record into it while a trace is active, and
the compiler's passes read it.
"""
