"""Contract fakes of the platforms (issue 21 §5): small servers that speak each documented protocol —
they check the signature, page, and answer the documented error codes — used by the tests over HTTP
and by the demo as its "sandbox" accounts. Each fake checks requests with its own code, not the
connector's, so a connector that signs or pages wrongly fails against it."""
