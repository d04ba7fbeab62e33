"""The names scaleplan's torchtitan export may use, read from torchtitan's source at the commit it targets.

Run from a torchtitan checkout (git history needed):  python tools/torchtitan_manifest.py > tests/data/torchtitan-b5bcd76c-fields.json
It records, by reading the source with ast (nothing is imported): each config dataclass's fields (with those it
inherits), the parameters of the functions the module calls, and the top-level names of the modules it imports from.
"""
import ast, json, subprocess, sys
COMMIT = "b5bcd76c66d0acb1a08b176d9639425bc55e0b2a"
ROOTS = ("torchtitan/models/common/", "torchtitan/protocols/", "torchtitan/config/", "torchtitan/components/",
         "torchtitan/trainer.py", "torchtitan/models/llama3/", "torchtitan/hf_datasets/", "torchtitan/distributed/activation_checkpoint.py")
files = subprocess.run(["git", "ls-tree", "-r", "--name-only", COMMIT], capture_output=True, text=True).stdout.split()
files = [f for f in files if f.endswith(".py") and f.startswith(ROOTS)]
classes = {}   # qualified name -> (fields, bases, file)
functions = {}  # name -> params
module_names = {}  # module path -> top-level names
def name_of(node):
    if isinstance(node, ast.Name): return node.id
    if isinstance(node, ast.Attribute): return name_of(node.value) + "." + node.attr
    return ""
for f in files:
    src = subprocess.run(["git", "show", f"{COMMIT}:{f}"], capture_output=True, text=True).stdout
    tree = ast.parse(src)
    mod = f[:-3].replace("/", ".").removesuffix(".__init__")
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)): names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names}
    module_names[mod] = sorted(names)
    def visit(body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef):
                q = prefix + node.name
                flds = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                        and "ClassVar" not in ast.unparse(s.annotation)]
                classes.setdefault(q, (flds, [name_of(b) for b in node.bases], f))
                visit(node.body, q + ".")
            elif isinstance(node, ast.FunctionDef) and not prefix:
                a = node.args
                functions.setdefault(node.name, [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs])
    visit(tree.body, "")
def all_fields(q, seen=()):
    if q not in classes or q in seen: return []
    flds, bases, _ = classes[q]
    out = []
    for b in bases:
        out += all_fields(b, seen + (q,))
    return out + flds
wanted = ["Trainer.Config", "TrainingConfig", "ParallelismConfig", "LRSchedulersContainer.Config", "Llama3Model.Config",
          "Embedding.Config", "RMSNorm.Config", "Linear.Config", "ComplexRoPE.Config", "Float8LinearConverter.Config",
          "ChunkedLossWrapper.Config", "CrossEntropyLoss.Config", "GrainDataLoader.Config", "ConcatThenSplitPackingConfig",
          "SelectiveAC.Config", "FullAC.Config", "CompileConfig"]
out = {"commit": COMMIT, "classes": {q: sorted(set(all_fields(q))) for q in wanted},
       "functions": {k: functions[k] for k in ("compute_ffn_hidden_dim", "_build_llama3_layers", "default_adamw",
                                               "model_registry", "decoder_vocab_size", "_output_linear_init")},
       "modules": {m: module_names[m] for m in ("torchtitan.models.llama3", "torchtitan.models.common",
                   "torchtitan.config", "torchtitan.components.optimizer", "torchtitan.components.quantization",
                   "torchtitan.components.loss", "torchtitan.components.data", "torchtitan.trainer",
                   "torchtitan.hf_datasets.text_datasets", "torchtitan.models.common.config_utils",
                   "torchtitan.distributed.activation_checkpoint")}}
missing = [q for q, v in out["classes"].items() if not v]
print(json.dumps(out, indent=1, sort_keys=True))
print("missing", missing, file=sys.stderr)
