/**
 * The Argo CD health check (deploy/argocd/health.lua) run in a real Lua VM (fengari) against intents in every
 * state the operator can leave them in.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { lauxlib, lua, lualib, to_luastring, type LuaState } from 'fengari';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '..', '..', '..');
const luaSource = fs.readFileSync(path.join(root, 'deploy', 'argocd', 'health.lua'), 'utf8');

/** Pushes a JSON value onto the Lua stack as Argo CD does (objects and arrays become tables). */
function push(L: LuaState, v: unknown): void {
  if (v === null || v === undefined) lua.lua_pushnil(L);
  else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
  else if (typeof v === 'number') (Number.isInteger(v) ? lua.lua_pushinteger : lua.lua_pushnumber)(L, v);
  else if (typeof v === 'string') lua.lua_pushstring(L, to_luastring(v));
  else if (Array.isArray(v)) {
    lua.lua_newtable(L);
    v.forEach((item, i) => {
      push(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    lua.lua_newtable(L);
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      push(L, item);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

function health(obj: unknown, source = luaSource): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  push(L, obj);
  lua.lua_setglobal(L, to_luastring('obj'));
  assert.equal(lauxlib.luaL_loadstring(L, to_luastring(source)), lua.LUA_OK, 'the Lua compiles');
  const rc = lua.lua_pcall(L, 0, 1, 0);
  assert.equal(rc, lua.LUA_OK, `the Lua ran: ${lua.lua_tojsstring(L, -1)}`);
  assert.ok(lua.lua_istable(L, -1), 'it returns a table');
  lua.lua_getfield(L, -1, to_luastring('status'));
  const status = lua.lua_tojsstring(L, -1) ?? '';
  lua.lua_pop(L, 1);
  lua.lua_getfield(L, -1, to_luastring('message'));
  const message = lua.lua_tojsstring(L, -1) ?? '';
  return { status, message };
}

type Cond = { type: string; status: string; reason: string; message?: string; observedGeneration?: number };
function intent(generation: number, status?: { observedGeneration?: number; conditions?: Cond[] }): unknown {
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', generation }, spec: {}, status };
}
const ready = (g: number): Cond => ({ type: 'Ready', status: 'True', reason: 'Reconciled', message: '3 policies', observedGeneration: g });
const notReady = (g: number, reason: string): Cond => ({ type: 'Ready', status: 'False', reason, message: `${reason} details`, observedGeneration: g });
const degraded = (g: number, reason: string): Cond => ({ type: 'Degraded', status: 'True', reason, message: 'x', observedGeneration: g });

describe('Argo CD health check for SegmentationIntent (Lua, run in fengari)', () => {
  const cases: [string, unknown, string][] = [
    ['Progressing before the operator has written any status', intent(1), 'Progressing'],
    ['Progressing with an empty status', intent(1, {}), 'Progressing'],
    ['Healthy when Ready=True at the current generation', intent(3, { observedGeneration: 3, conditions: [ready(3)] }), 'Healthy'],
    ['Healthy for a DryRun intent whose plan is computed (Ready=False, DryRun, as the operator writes it)', intent(2, { observedGeneration: 2, conditions: [notReady(2, 'DryRun'), { type: 'Degraded', status: 'False', reason: 'DryRun', observedGeneration: 2 }] }), 'Healthy'],
    ['Progressing for a DryRun condition of an older generation', intent(3, { observedGeneration: 2, conditions: [notReady(2, 'DryRun')] }), 'Progressing'],
    ['Progressing when Ready=True is for an older generation', intent(4, { observedGeneration: 3, conditions: [ready(3)] }), 'Progressing'],
    ['Degraded on InvalidSpec at the current generation', intent(5, { observedGeneration: 5, conditions: [notReady(5, 'InvalidSpec'), degraded(5, 'InvalidSpec')] }), 'Degraded'],
    ['Degraded on NameConflict at the current generation', intent(2, { observedGeneration: 2, conditions: [notReady(2, 'NameConflict')] }), 'Degraded'],
    ['Degraded on a Degraded=True NameConflict condition alone', intent(2, { observedGeneration: 2, conditions: [degraded(2, 'NameConflict')] }), 'Degraded'],
    ['Progressing when an old InvalidSpec was superseded by a newer spec', intent(6, { observedGeneration: 5, conditions: [notReady(5, 'InvalidSpec')] }), 'Progressing'],
    ['Progressing on an API error being retried', intent(2, { observedGeneration: 2, conditions: [notReady(2, 'ApiError')] }), 'Progressing'],
  ];
  for (const [name, obj, want] of cases) {
    it(`is ${name}`, () => assert.equal(health(obj).status, want));
  }

  it('carries the condition message into the health message', () => {
    const h = health(intent(5, { observedGeneration: 5, conditions: [notReady(5, 'InvalidSpec')] }));
    assert.equal(h.message, 'InvalidSpec: InvalidSpec details');
  });

  it('is installed by the argocd-cm snippet verbatim', () => {
    const cm = parse(fs.readFileSync(path.join(root, 'deploy', 'argocd', 'argocd-cm-health.yaml'), 'utf8')) as {
      data: Record<string, string>;
    };
    const installed = cm.data['resource.customizations.health.netseg.io_SegmentationIntent'];
    assert.equal(installed, luaSource);
    assert.equal(health(intent(1, { observedGeneration: 1, conditions: [ready(1)] }), installed).status, 'Healthy');
  });
});
