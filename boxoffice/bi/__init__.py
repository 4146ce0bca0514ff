"""The BI layer: Superset's connection to the warehouse and its dashboards, kept as code.

Superset runs in its own virtualenv (boxoffice/stack/components/superset.py); this
package only talks to it over its REST API, so it needs nothing from Superset installed.
"""
