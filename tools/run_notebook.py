"""Executes one notebook headlessly with nbclient and fails at the first cell that goes wrong.

Called by tools/run-notebooks.ts, which registers the kernel and sets JUPYTER_PATH. tslab reports a
failed cell only as stderr text plus an "error" status in its reply (no error output), and then
skips requests for 200 ms; so this driver runs cell by cell, checks each reply and the cell's
stderr, and stops at the first failure: no later cell can be skipped silently and still pass.

Usage: run_notebook.py NOTEBOOK OUTPUT KERNEL_CWD CELL_TIMEOUT_S
Exit status: 0 all cells passed, 1 a cell failed, 2 the notebook could not be run at all.
"""
import re
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

# Lines tslab writes to stderr for a failed cell: TypeScript diagnostics ("3:7 - Type 'string' ..."),
# thrown errors ("TypeError: ...", "Error: ..."), and their stack frames ("    at f (file:1:2)").
ERROR_LINE = re.compile(
    r"^(\S+ )?\d+:\d+ - "
    r"|^(Uncaught )?([A-Z][A-Za-z]*)?(Error|Exception)\b( \[\w+\])?:"
    r"|^\s+at .+:\d+:\d+\)?$",
    re.MULTILINE,
)


def cell_problem(cell, reply):
    """Why this cell failed, or None when it passed."""
    status = reply["content"].get("status") if reply else "no reply"
    if status != "ok":
        return f"kernel replied {status!r}"
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"error output {output.get('ename', '')}: {output.get('evalue', '')}"
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            if ERROR_LINE.search(output.get("text", "")):
                return "error text on stderr"
    return None


def stderr_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


def main(argv):
    notebook_path, output_path, kernel_cwd, timeout_s = argv[1], argv[2], argv[3], int(argv[4])
    notebook = nbformat.read(notebook_path, as_version=4)
    replies = {}

    def remember_reply(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply

    client = NotebookClient(
        notebook,
        timeout=timeout_s,
        kernel_name="tslab",
        allow_errors=True,  # errors are judged here, cell by cell
        record_timing=False,  # keeps committed notebooks free of per-run timestamps
        resources={"metadata": {"path": kernel_cwd}},
        on_cell_executed=remember_reply,  # execute_cell returns the cell, not the kernel's reply
    )
    failure = None
    try:
        with client.setup_kernel():
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    failure = (index, f"no result within {timeout_s} s", "")
                    break
                problem = cell_problem(cell, replies.get(index))
                if problem:
                    failure = (index, problem, stderr_text(cell))
                    break
    except DeadKernelError as error:
        failure = (-1, f"kernel died: {error}", "")
    except Exception as error:  # kernel could not start: missing spec, bad JUPYTER_PATH
        print(f"cannot run {notebook_path}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    finally:
        nbformat.write(notebook, output_path)

    if failure is None:
        return 0
    index, problem, detail = failure
    where = f"cell {index + 1}" if index >= 0 else "kernel"
    print(f"{where}: {problem}", file=sys.stderr)
    if index >= 0:
        source = notebook.cells[index].source.strip().splitlines()
        print("  source: " + (source[0] if source else "") + (" ..." if len(source) > 1 else ""), file=sys.stderr)
    for line in detail.strip().splitlines()[:12]:
        print("  | " + line, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
