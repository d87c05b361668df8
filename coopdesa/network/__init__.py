"""The cooperation network: who cooperates with whom (issue 6).

Seeds 000-004 describe how a village moves from social bonding (one closed community)
through social bridging (two or three communities joined around a shared need) to social
networking (many diverse partners); seed 003 counts investment in social networks as part
of social resilience (ketahanan sosial). The agreements coopdesa holds under UU 6/2014
Pasal 91-93 and PP 43/2014 Pasal 143-148 say exactly that: each agreement joins its parties.

- ``graph``: scopes, filters and the networkx graph of the agreements in a scope;
- ``stages``: the documented, configurable bonding / bridging / networking rule;
- ``metrics``: degree, betweenness, partner kinds, border-crossing ties, Louvain
  communities, density, isolated desa;
- ``store``: results stored per kabupaten/kota, refreshed when the agreements change;
- ``drawing``: the server-side layout and SVG drawing; ``exports``: GraphML, GEXF, CSV;
- ``views`` / ``api``: pages under ``/jaringan``, ``/api/v1/network``.
"""
