"""The Streamlit dashboard's logic: formats, shared view state, cached core calls, charts, tables, exports.

Page files in `pages/` only arrange these pieces; every figure comes from `core.analytics`.
"""
