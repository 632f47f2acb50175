"""Train the seed's ActMix MLP in PyTorch as a pipe stage (pipelines/actmix_torch.yaml).

Inputs: train / val / test tables as .npz (one array per column; pipe converts its Arrow tables),
with pipe's dataset conventions (target, task, features) in the manifest. The recipe is the
seed's (§A.3–A.4): AdamW, cosine LR stepped per epoch, global-norm clipping, batch 128, early
stopping on val loss with the best weights restored, T annealed and the entropy weight warmed up
per epoch. Reports a curve row and progress per epoch and the test metrics; writes `metrics`
(the layout of pipe's `train` metrics: {"test": {...}}) and the model's state dict.
"""
import copy
import json
import time

import numpy as np
import torch

from pipe_stage import inputs, output, params, seed, metric, curve, progress, log
from actmix import ActMixMLP, temperature_at, entropy_weight_at, cosine_lr

torch.manual_seed(seed)
np.random.seed(seed % (2 ** 32))
torch.set_num_threads(1)  # pipe runs stages in parallel processes

meta = inputs['train'].meta
target, features, task = meta['target'], meta['features'], meta.get('task', 'classification')
if task != 'classification':
    raise SystemExit('this example trains classifiers (MAGIC, Adult); got task %r' % task)
n_classes = len(meta.get('classes') or [0, 1])


def load(name):
    cols = inputs[name].read()
    x = np.stack([cols[f].astype(np.float32) for f in features], axis=1)
    y = cols[target].astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


Xtr, ytr = load('train')
Xva, yva = load('val')
Xte, yte = load('test')

am = params['actmix']
tr = params['training']
model = ActMixMLP(Xtr.shape[1], n_classes, hidden=params['hidden'], dropout=params['dropout'],
                  bases=am['bases'], relu_bias=am['relu_bias'], omega_0=am['omega_0'], temperature=am['t0'])
opt = torch.optim.AdamW(model.parameters(), lr=tr['lr'], weight_decay=tr['weight_decay'], betas=(0.9, 0.999), eps=1e-8)
ce = torch.nn.CrossEntropyLoss()
epochs, batch = tr['max_epochs'], tr['batch_size']
eta_min = tr['lr'] * tr['eta_min_ratio']


def evaluate(X, y):
    model.eval()
    with torch.no_grad():
        logits = model(X)
        loss = ce(logits, y).item()
        p = torch.softmax(logits, -1)
    return loss, p.numpy(), logits.argmax(-1).numpy()


best = (float('inf'), None, -1)
bad = 0
t_start = time.time()
for epoch in range(epochs):
    T = temperature_at(epoch, am['t0'], am['t_final'], am['anneal_epochs'])
    lam = entropy_weight_at(epoch, am['lambda_max'], am['warmup_epochs'])
    model.set_temperature(T)
    for g in opt.param_groups:
        g['lr'] = cosine_lr(epoch, tr['lr'], eta_min, epochs)
    model.train()
    perm = torch.randperm(len(Xtr))
    total, n = 0.0, 0
    for i in range(0, len(Xtr), batch):
        idx = perm[i:i + batch]
        logits = model(Xtr[idx])
        task_loss = ce(logits, ytr[idx])
        loss = task_loss + lam * model.mean_entropy()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tr['grad_clip'])
        opt.step()
        total += task_loss.item() * len(idx)
        n += len(idx)
    val_loss, _, val_pred = evaluate(Xva, yva)
    val_acc = float((val_pred == yva.numpy()).mean())
    H = model.mean_entropy().item()
    curve(epoch=epoch + 1, train_loss=total / n, val_loss=val_loss, val_accuracy=val_acc, temperature=T, mean_entropy=H)
    progress(epoch + 1, epochs, unit='epoch', val_accuracy=val_acc, val_loss=val_loss)
    if val_loss < best[0]:
        best = (val_loss, copy.deepcopy(model.state_dict()), epoch)
        bad = 0
    else:
        bad += 1
        if bad >= tr['patience']:
            log('early stop after epoch', epoch + 1)
            break

model.load_state_dict(best[1])  # the best epoch's weights and its temperature
test_loss, p, pred = evaluate(Xte, yte)
y = yte.numpy()


def macro(pred, y, k):
    prec, rec, f1 = [], [], []
    for c in range(k):
        tp = float(((pred == c) & (y == c)).sum())
        fp = float(((pred == c) & (y != c)).sum())
        fn = float(((pred != c) & (y == c)).sum())
        pc = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        prec.append(pc); rec.append(rc); f1.append(2 * pc * rc / (pc + rc) if pc + rc else 0.0)
    return float(np.mean(prec)), float(np.mean(rec)), float(np.mean(f1))


def roc_auc(score, y):
    """Mann–Whitney U with average ranks for ties."""
    order = np.argsort(score, kind='mergesort')
    s = score[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


precision, recall, f1 = macro(pred, y, n_classes)
test = {
    'accuracy': float((pred == y).mean()),
    'f1_macro': f1, 'precision_macro': precision, 'recall_macro': recall,
    'log_loss': test_loss,
}
if n_classes == 2:
    test['roc_auc'] = roc_auc(p[:, 1], y)
for k, v in test.items():
    metric('test_' + k, v)
metric('best_epoch', best[2] + 1)
metric('train_seconds', time.time() - t_start)
with open(output('metrics'), 'w') as f:
    json.dump({'model': 'actmix', 'impl': 'pytorch', 'torch': torch.__version__, 'test': test,
               'best_epoch': best[2] + 1, 'val_loss': best[0]}, f, indent=2, sort_keys=True)
torch.save(best[1], output('model'))
