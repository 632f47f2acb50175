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

Long loops resume where a kill, Ctrl-C or a Slurm preemption stopped them (`checkpoint`):

    state = checkpoint.load()              # None on a fresh start; else what you saved
    start = state['epoch'] if state else 0 # (the curve rows and metrics sent before come back too)
    for epoch in range(start + 1, params['epochs'] + 1):
        ...
        if checkpoint.due(epoch):          # every N epochs / T seconds (the stage's `checkpoint:`)
            checkpoint.save({'epoch': epoch, 'w': w, 'rng': rng.bit_generator.state}, epoch, params['epochs'])

Save everything the rest of the run depends on (parameters, optimizer state, every RNG state) so
the resumed run's results are bit-identical to an uninterrupted one.

Outside pipe (no $PIPE_MANIFEST) importing works and the protocol calls print to stderr, so a
script can be run by hand with `PIPE_MANIFEST=path/to/manifest.json python script.py`.
"""
import json
import math
import os
import sys

__all__ = ['manifest', 'params', 'seed', 'attempt', 'stage', 'matrix', 'work_dir', 'inputs', 'outputs',
           'output', 'metric', 'metrics', 'curve', 'progress', 'log', 'Input', 'checkpoint']


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


# what was sent so far, kept for resume checkpoints (a resumed run sends it again)
_sent_metrics = {}
_sent_curves = []


def metric(name, value):
    """A final metric of the stage (a number, string, bool or None); the last value of a name wins."""
    _sent_metrics[str(name)] = _num(value)
    _send({'type': 'metric', 'name': str(name), 'value': _num(value)})


def metrics(**values):
    """Several metrics at once: metrics(test_accuracy=0.91, test_loss=0.23)."""
    for k, v in values.items():
        metric(k, v)


def curve(**row):
    """One row of the stage's `curves` table (e.g. curve(epoch=3, loss=0.41, val_loss=0.44))."""
    r = {str(k): _num(v) for k, v in row.items()}
    _sent_curves.append(r)
    _send({'type': 'curve', 'row': r})


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


# ---- resume checkpoints ------------------------------------------------------------------------
#
# Files ckpt-<epoch, 9 digits>.bin in the directory pipe gives (manifest `checkpoint.dir`, one per
# fingerprint): the 8 bytes PIPECKPY, the SHA-256 of the payload, then the payload — a 4-byte
# little-endian length, that many bytes of JSON meta {epoch, total, savedAt}, and the pickle of
# {'state', 'curves', 'metrics'}. Written to a temp file, fsynced and renamed (a kill mid-write
# leaves no partial checkpoint); the newest two are kept; a damaged one is skipped with a warning.

_CKPT_MAGIC = b'PIPECKPY'


class _Checkpoint:
    def __init__(self, spec):
        spec = spec or {}
        self.dir = spec.get('dir')
        self.every_epochs = spec.get('every_epochs', 0)
        self.every_seconds = spec.get('every_seconds', 0)
        self.epoch = 0          # the epoch a resumed run continues after (0: a fresh start)
        self._last_time = None
        self._last_epoch = 0

    @property
    def enabled(self):
        return bool(self.dir)

    def _files(self):
        import re
        if not self.dir or not os.path.isdir(self.dir):
            return []
        found = [(int(m.group(1)), os.path.join(self.dir, f)) for f in os.listdir(self.dir)
                 for m in [re.match(r'^ckpt-(\d{9})\.bin$', f)] if m]
        return sorted(found, reverse=True)

    def load(self):
        """The state of the newest valid checkpoint (None: a fresh start). Sends the curve rows and
        metrics the checkpointed run had sent, and tells pipe the run resumed."""
        import hashlib
        import pickle
        import struct
        import time
        self._last_time = time.time()
        for epoch, path in self._files():
            try:
                with open(path, 'rb') as f:
                    buf = f.read()
                if buf[:8] != _CKPT_MAGIC:
                    raise ValueError('not a pipe checkpoint (bad header)')
                payload = buf[40:]
                if hashlib.sha256(payload).digest() != buf[8:40]:
                    raise ValueError('content hash mismatch (damaged or truncated)')
                (n,) = struct.unpack('<I', payload[:4])
                meta = json.loads(payload[4:4 + n].decode('utf-8'))
                body = pickle.loads(payload[4 + n:])
            except Exception as e:  # noqa: BLE001 - any damage means: skip this one
                log('checkpoint %s is damaged (%s); skipping it' % (path, e), level='warn')
                continue
            for r in body.get('curves', []):
                curve(**r)
            for k, v in body.get('metrics', {}).items():
                metric(k, v)
            self.epoch = self._last_epoch = meta['epoch']
            _send({'type': 'resumed', 'epoch': meta['epoch'], 'total': meta.get('total')})
            return body['state']
        return None

    def due(self, epochs_done):
        """Is a save due after `epochs_done` epochs (the stage's every_epochs / every_seconds)?"""
        import time
        if not self.enabled:
            return False
        if self._last_time is None:
            self._last_time = time.time()
        if self.every_epochs and epochs_done - self._last_epoch >= self.every_epochs:
            return True
        return bool(self.every_seconds) and time.time() - self._last_time >= self.every_seconds

    def save(self, state, epoch, total=None):
        """Writes a checkpoint of `state` (anything pickle can store) after `epoch` of `total`."""
        import hashlib
        import pickle
        import struct
        import time
        if not self.enabled:
            return
        os.makedirs(self.dir, exist_ok=True)
        meta = json.dumps({'epoch': int(epoch), 'total': None if total is None else int(total), 'savedAt': int(time.time() * 1000)}).encode('utf-8')
        body = pickle.dumps({'state': state, 'curves': list(_sent_curves), 'metrics': dict(_sent_metrics)}, protocol=4)
        payload = struct.pack('<I', len(meta)) + meta + body
        path = os.path.join(self.dir, 'ckpt-%09d.bin' % int(epoch))
        tmp = '%s.tmp-%d' % (path, os.getpid())
        with open(tmp, 'wb') as f:
            f.write(_CKPT_MAGIC + hashlib.sha256(payload).digest() + payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        for _, old in self._files()[2:]:
            try:
                os.remove(old)
            except OSError:
                pass
        self._last_time = time.time()
        self._last_epoch = int(epoch)


checkpoint = _Checkpoint(manifest.get('checkpoint'))
