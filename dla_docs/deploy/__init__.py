"""Deployability, measured per variant and recorded: ``dla-docs deploy``.

- :mod:`~dla_docs.deploy.rules`: the tolerance and the equality rule (torch-free);
- :mod:`~dla_docs.deploy.record`: the committed record (``data/deploy_dla.json``): its format,
  reading, comparing, and the per-card view (torch-free: ``verify`` and the pages read it);
- :mod:`~dla_docs.deploy.weights`, :mod:`~dla_docs.deploy.checks`, :mod:`~dla_docs.deploy.latency`,
  :mod:`~dla_docs.deploy.worker`: the measuring, in the measuring server's workers;
- :mod:`~dla_docs.deploy.running`: the command's flow (start the server, collect, record, compare).
"""
