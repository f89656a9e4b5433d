"""The floor of the dashboard's stack, for `scripts/measure_pages.py`: a Streamlit page holding only a title and,
unless opened with `?chart=none`, one small Plotly chart. No store, no core: what any page costs to draw."""

import plotly.graph_objects as go
import streamlit as st

st.title("Reference page")
if st.query_params.get("chart") != "none":
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])))
