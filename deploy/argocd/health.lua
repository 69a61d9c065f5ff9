-- Argo CD resource health for netseg.io/SegmentationIntent.
-- Healthy:     Ready=True for the current generation (the operator has reconciled this very spec), or a DryRun
--              intent whose plan for the current generation is computed (Ready=False, reason DryRun: it is
--              doing what it was asked, and its status lists what it would own).
-- Degraded:    the current generation is refused (InvalidSpec) or blocked by a policy it does not own
--              (NameConflict); the policies it already owned stay in place, but the new intent is not applied.
-- Progressing: anything else (not reconciled yet, a newer spec pending, an API error being retried).
local hs = {status = "Progressing", message = "Waiting for the netseg operator to reconcile this generation"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata.generation
local function current(c)
  return c.observedGeneration == nil or generation == nil or c.observedGeneration == generation
end
for _, c in ipairs(obj.status.conditions) do
  if current(c) and (c.reason == "InvalidSpec" or c.reason == "NameConflict")
     and ((c.type == "Ready" and c.status == "False") or (c.type == "Degraded" and c.status == "True")) then
    hs.status = "Degraded"
    hs.message = c.reason .. ": " .. (c.message or "")
    return hs
  end
end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" and c.status == "False" and c.reason == "DryRun" and current(c) then
    hs.status = "Healthy"
    hs.message = "DryRun: " .. (c.message or "nothing is applied")
    return hs
  end
  if c.type == "Ready" and c.status == "True" and current(c)
     and (obj.status.observedGeneration == nil or obj.status.observedGeneration == generation) then
    hs.status = "Healthy"
    hs.message = c.message or "Reconciled"
    return hs
  end
end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" and c.message ~= nil then
    hs.message = (c.reason or "") .. ": " .. c.message
  end
end
return hs
