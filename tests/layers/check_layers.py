#!/usr/bin/python3
"""Each layer includes only its own headers and those of the layers it links.

The layers and what each links are read from the sabakan_layer() calls in CMakeLists.txt;
a layer may use what it links, directly or through another layer. Every
#include <sabakan/LAYER/...> in src/LAYER/ and include/sabakan/LAYER/ is checked; the
first line printed names the file and line of each include that crosses a layer upward or
sideways."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
cmake = (root / "CMakeLists.txt").read_text()

deps = {}
for name, args in re.findall(r"^sabakan_layer\((\w+)(.*)\)\s*$", cmake, re.M):
    deps[name] = set(re.findall(r"sabakan_(\w+)", args))
if not deps:
    sys.exit("check_layers: no sabakan_layer() calls in CMakeLists.txt")


def reach(layer, seen=None):
    seen = set() if seen is None else seen
    for d in deps.get(layer, ()):
        if d not in seen:
            seen.add(d)
            reach(d, seen)
    return seen


include = re.compile(r'^\s*#\s*include\s*[<"]sabakan/(\w+)/')
problems = []
checked = 0
for layer in deps:
    allowed = reach(layer) | {layer}
    for base in (root / "src" / layer, root / "include" / "sabakan" / layer):
        for path in sorted(base.rglob("*.[ch]pp")) if base.is_dir() else ():
            checked += 1
            for number, line in enumerate(path.read_text().splitlines(), 1):
                m = include.match(line)
                if m and m.group(1) not in allowed:
                    problems.append(
                        f"{path.relative_to(root)}:{number}: layer {layer} includes "
                        f"sabakan/{m.group(1)}/, which it does not link "
                        f"(it links: {', '.join(sorted(allowed - {layer})) or 'nothing'})")
if problems:
    print("\n".join(problems))
    print("check_layers: move the code to a layer that may see it, or add the dependency "
          "to the layer's sabakan_layer() call in CMakeLists.txt")
    sys.exit(1)
print(f"check_layers: {checked} files in {len(deps)} layers include only what they link")
