# Setup, the same in every notebook. Where cnnlearn is importable (a clone after `make setup`) it does
# nothing. Elsewhere (Kaggle, Colab, a notebook copied alone) it pip-installs cnnlearn from
# $CNNLEARN_SOURCE (a wheel's path or a pip URL; default: the repository), keeping the TensorFlow and
# Keras already installed: pip may add what is missing, never replace those two.
import importlib.metadata, importlib.util, os, subprocess, sys, tempfile

def cnnlearn_install(environ=os.environ, find=importlib.util.find_spec, version=importlib.metadata.version):
    """None where cnnlearn imports, else (what to install, the installed versions pip must keep)."""
    if find("cnnlearn") is not None:
        return None
    source = environ.get("CNNLEARN_SOURCE") or "cnnlearn @ git+https://github.com/cnnlearn/cnnlearn"
    return source, [f"{name}=={version(name)}" for name in ("tensorflow", "keras") if find(name) is not None]

if plan := cnnlearn_install():
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as keep:
        keep.write("\n".join(plan[1]) + "\n")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", plan[0], "-c", keep.name])
    print(f"Installed cnnlearn from {plan[0]}; kept {', '.join(plan[1]) or 'no TensorFlow or Keras (pip added them)'}.")
