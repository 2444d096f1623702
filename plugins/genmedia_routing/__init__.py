"""genmedia's built-in router: ``genmedia run "a prompt"`` picks a model.

:func:`genmedia_routing.classify.classify` reads the prompt (and the inputs given) and
names a modality; :mod:`genmedia_routing.table` maps it to an endpoint from the shipped
defaults or the config file. See docs/routing.md.
"""
