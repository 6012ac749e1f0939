# `--canary` must name tenants of this run: a typo would otherwise run no canary at all.
for canary <- canaries, canary not in prefixes do
  refuse.("canary " <> canary <> " is not one of the #{length(prefixes)} tenants of this run")
end
