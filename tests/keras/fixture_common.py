"""What tests/keras/make_fixtures.py and make_keras_files.py share: the
record files they write (the format their docstrings describe) and the
check of a float32 run against its float64 twin that gives each computed
record R its R.err."""
import numpy as np


def fmt(values):
    """values as float32 printed with %.9g (exact round trip), 8 a line."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    assert np.all(np.isfinite(flat))
    return "\n".join(" ".join("%.9g" % np.float32(v) for v in flat[i:i + 8])
                     for i in range(0, len(flat), 8))


def write_records(path, header, records):
    """Writes header (a comment line) and records, each ("@NAME", text),
    ("# comment", None) or (NAME, values), to path."""
    lines = [header]
    for key, values in records:
        if key.startswith("@"):
            lines.append("%s %s" % (key, values))
        elif key.startswith("#"):
            lines.append(key)
        else:
            flat = np.asarray(values).ravel()
            lines.append("%s %d" % (key, len(flat)))
            if len(flat):
                lines.append(fmt(flat))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def float32_error(name, key, v32, v64):
    """|v32 - v64| value by value (flattened) and the largest |v64|: the
    rounding error of the float32 run of record key of fixture name. An
    error far above float32's resolution would mean the two runs took
    different branches (a relu at 0, a max tie), and the fixture would test
    nothing well: then it raises (pick other data)."""
    v32, v64 = np.asarray(v32, np.float64).ravel(), np.asarray(v64, np.float64).ravel()
    err = np.abs(v32 - v64)
    scale = float(np.max(np.abs(v64))) if v64.size else 0.0
    if float(np.max(err, initial=0.0)) > 1e-4 * max(scale, 1e-3):
        raise RuntimeError("%s: %s: float32 and float64 differ by %g (scale %g)"
                           % (name, key, float(np.max(err)), scale))
    return err, scale
