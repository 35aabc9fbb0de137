"""Force generation (pure): from pledges and conditions to the gap picture.

* :mod:`coalition.forcegen.activation`: which pledges hold at a date, and why not;
* :mod:`coalition.forcegen.eligibility`: can a pledge serve a requirement line at a hub
  (capability, caveats, readiness, window), scalar and as a numpy matrix for model building;
* :mod:`coalition.forcegen.gaps`: a deterministic allocation and the reasons for every gap;
* :mod:`coalition.forcegen.render`: Rich renderers used by ``status``, ``gaps`` and ``plan``;
* :mod:`coalition.forcegen.schemas`: the typed results and their JSON forms.
"""
