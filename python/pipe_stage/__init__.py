"""pipe_stage: the helper pipe puts on the PYTHONPATH of every `kind: python` stage.

Dependency-free (the standard library only; NumPy is used when it is installed and a format
needs it). It reads the stage manifest (the JSON file named by $PIPE_MANIFEST) and speaks the
line protocol on the file descriptor named by $PIPE_PROTOCOL_FD (one JSON object per line):

    from pipe_stage import params, seed, inputs, output, metric, curve, progress, log

    X = inputs['train'].read()             # by the input's format: dict of NumPy columns (npz),
                                           # a 2-D array (npy), a list of row dicts (csv), ...
    for epoch in range(1, params['epochs'] + 1):
        ...
        curve(epoch=epoch, loss=loss, val_loss=val_loss)    # a row of the stage's curves table
        progress(epoch, params['epochs'], unit='epoch')     # the live display and the ETA
    metric('test_accuracy', acc)                            # pipe runs / pipe diff / gates
    with open(output('model'), 'wb') as f: ...

Outside pipe (no $PIPE_MANIFEST) importing works and the protocol calls print to stderr, so a
script can be run by hand with `PIPE_MANIFEST=path/to/manifest.json python script.py`.
"""
import json
import math
import os
import sys

__all__ = ['manifest', 'params', 'seed', 'attempt', 'stage', 'matrix', 'work_dir', 'inputs', 'outputs',
           'output', 'metric', 'metrics', 'curve', 'progress', 'log', 'Input']


def _load_manifest():
    path = os.environ.get('PIPE_MANIFEST')
    if not path:
        return {'version': 1, 'stage': os.path.basename(sys.argv[0] or 'script'), 'params': {}, 'seed': 0,
                'attempt': 1, 'matrix': {}, 'work_dir': os.getcwd(), 'inputs': {}, 'outputs': {}}
    with open(path, encoding='utf-8') as f:
        return json.load(f)


manifest = _load_manifest()
params = manifest.get('params', {})
seed = manifest.get('seed', 0)
attempt = manifest.get('attempt', 1)
stage = manifest.get('stage')
matrix = manifest.get('matrix', {})
work_dir = manifest.get('work_dir')

# ---- the line protocol -------------------------------------------------------------------------

_out = None


def _channel():
    global _out
    if _out is None:
        fd = os.environ.get('PIPE_PROTOCOL_FD')
        if fd:
            _out = os.fdopen(int(fd), 'w', buffering=1, encoding='utf-8', closefd=False)
        else:
            _out = sys.stderr
    return _out


def _num(v):
    """JSON-safe scalar: NumPy scalars become Python numbers; NaN/inf become null."""
    if hasattr(v, 'item') and callable(v.item):
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def _send(obj):
    ch = _channel()
    ch.write(json.dumps(obj, separators=(',', ':')) + '\n')
    ch.flush()


def metric(name, value):
    """A final metric of the stage (a number, string, bool or None); the last value of a name wins."""
    _send({'type': 'metric', 'name': str(name), 'value': _num(value)})


def metrics(**values):
    """Several metrics at once: metrics(test_accuracy=0.91, test_loss=0.23)."""
    for k, v in values.items():
        metric(k, v)


def curve(**row):
    """One row of the stage's `curves` table (e.g. curve(epoch=3, loss=0.41, val_loss=0.44))."""
    _send({'type': 'curve', 'row': {str(k): _num(v) for k, v in row.items()}})


def progress(done, total=None, unit=None, message=None, **shown):
    """Progress for the live display and the ETA: progress(3, 20, unit='epoch', val_loss=0.4)."""
    obj = {'type': 'progress', 'done': _num(done)}
    if total is not None:
        obj['total'] = _num(total)
    if unit:
        obj['unit'] = unit
    parts = [message] if message else []
    parts += ['%s %s' % (k, ('%.4g' % v) if isinstance(_num(v), float) else v) for k, v in shown.items()]
    if parts:
        obj['message'] = ' · '.join(parts)
    _send(obj)


def log(*args, level='info'):
    """A line in the stage's log (`pipe show <stage>`), like print."""
    _send({'type': 'log', 'level': level, 'message': ' '.join(str(a) for a in args)})


# ---- inputs and outputs ------------------------------------------------------------------------

def _read_npy(path):
    import numpy as np
    return np.load(path, allow_pickle=False)


def _read_npz(path):
    import numpy as np
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _read_csv(path):
    import csv

    def conv(s):
        if s == '':
            return None
        try:
            return int(s)
        except ValueError:
            pass
        try:
            return float(s)
        except ValueError:
            return s
    with open(path, newline='', encoding='utf-8') as f:
        return [{k: conv(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _read_path(path, fmt):
    if fmt == 'npz':
        return _read_npz(path)
    if fmt == 'npy':
        return _read_npy(path)
    if fmt == 'csv':
        return _read_csv(path)
    if fmt == 'json':
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    if fmt == 'text':
        with open(path, encoding='utf-8') as f:
            return f.read()
    if fmt in ('parquet', 'arrow'):
        try:
            import pyarrow.parquet as pq  # noqa: F401
            import pyarrow.feather as feather
        except ImportError:
            raise RuntimeError('reading %s needs pyarrow; ask pipe for csv, npy or npz instead (formats: in the stage)' % fmt)
        return pq.read_table(path) if fmt == 'parquet' else feather.read_table(path)
    with open(path, 'rb') as f:
        return f.read()


class Input:
    """One input artifact: .path, .format, .matrix (the producing instance's matrix values),
    .source (`stage[k=v].output`), .read(). A gathered input is a list of these, in the
    documented order (the order of the producing instances in the pipeline's expansion)."""

    def __init__(self, d):
        self.path = d['path']
        self.format = d.get('format')
        self.matrix = d.get('matrix', {})
        self.source = d.get('from')
        self.columns = d.get('columns')
        self.meta = d.get('meta', {})   # pipe's dataset conventions: target, task, classes, features

    def read(self):
        return _read_path(self.path, self.format)

    def __repr__(self):
        return 'Input(%r, format=%r, matrix=%r)' % (self.path, self.format, self.matrix)


class _Inputs(dict):
    def __missing__(self, key):
        raise KeyError("stage %s has no input %r (connected: %s)" % (stage, key, ', '.join(sorted(self)) or 'none'))


inputs = _Inputs()
for _name, _d in manifest.get('inputs', {}).items():
    inputs[_name] = [Input(x) for x in _d['items']] if _d.get('multiple') else Input(_d)

outputs = {k: v for k, v in manifest.get('outputs', {}).items()}


def output(name):
    """The path to write output `name` to (in its declared format)."""
    o = outputs.get(name)
    if o is None:
        raise KeyError("stage %s declares no output %r (declared: %s)" % (stage, name, ', '.join(sorted(outputs)) or 'none'))
    return o['path']
