"""`symparams serve FILE`: a local page to explore a model (symparams/serve/server.py serves it).

document.py derives what the page shows, once per file version; compile.py turns each closed form
into a tree the page evaluates exactly at every slider move; static/ holds the page itself (HTML,
CSS, JavaScript: no library, no CDN; formulas typeset as MathML, which browsers render natively).
"""
