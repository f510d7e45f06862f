"""Deployment files (Dockerfile, compose, Kubernetes, systemd, gunicorn) and the fault drills.

A package only so that the drill's helpers import as ``deploy.drill.drill`` (bench/drill_r4.py);
nothing here is imported by the application.
"""
