"""RetailCRM analytics dashboard for managers: `streamlit run app.py`.

Reads the store `DATABASE_URL` points to (default: data/retailcrm.db). Every figure comes from
`core.analytics`; the chosen periods and filters follow the manager across pages and live in the
URL, so any view can be shared as a link. Each page opens the store and the shared view itself
(`core.dashboard.widgets.dashboard_page`), so it works the same however it is reached.
"""

import streamlit as st

st.set_page_config(page_title="RetailCRM analytics", page_icon=":material/monitoring:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/compare.py", title="Compare periods", icon=":material/compare_arrows:"),
    st.Page("pages/breakdown.py", title="Breakdown", icon=":material/bar_chart:"),
    st.Page("pages/orders.py", title="Orders", icon=":material/receipt_long:"),
    st.Page("pages/sync_health.py", title="Sync & data health", icon=":material/sync:"),
]

st.navigation(PAGES).run()
