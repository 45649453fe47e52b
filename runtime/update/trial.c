/*
 * Running a new model on trial: activate, confirm, revert, and boot-time
 * recovery (revert an unconfirmed trial, complete an interrupted
 * confirmation, fall back from a slot that no longer verifies), plus loading
 * the active model. Each change of the active slot is a single journal
 * record, so a cut leaves either the old or the new choice.
 */
#include <string.h>

#include "update_priv.h"
#include "../diag.h"

static tmo_err fail(tmo_diag *diag, tmo_err err, const char *problem)
{
    return diag_set(diag, err, TMO_AT_NONE, -1, "update.state", problem);
}

static int on_trial(const tmo_update *u)
{
    return u->st.active != TMO_UPDATE_NO_SLOT && u->st.slot[u->st.active].state == TMO_SLOT_TRIAL;
}

tmo_err tmo_update_activate(tmo_update *u, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL)
        return TMO_EINVAL;
    if (on_trial(u))
        return fail(diag, TMO_ESTATE, "a trial is already running");
    uint8_t r = TMO_UPDATE_NO_SLOT;
    for (uint8_t i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (u->st.slot[i].state == TMO_SLOT_READY && i != u->st.active)
            r = i;
    if (r == TMO_UPDATE_NO_SLOT)
        return fail(diag, TMO_ESTATE, "no verified bundle is waiting (call finish)");
    tmo_update_state next = u->st;
    next.slot[r].state = TMO_SLOT_TRIAL;
    next.active = r;
    next.trial_boots = 0;
    return journal_store(u, &next, diag);
}

tmo_err tmo_update_confirm(tmo_update *u, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL)
        return TMO_EINVAL;
    if (!on_trial(u))
        return fail(diag, TMO_ESTATE, "no trial to confirm");
    uint8_t a = u->st.active;
    tmo_err e = slot_verify(u, a, u->st.slot[a].size, 0, diag);
    if (e != TMO_OK)
        return e;
    /* Journal first, counter second: see the header on why the other order is unsafe. */
    tmo_update_state next = u->st;
    next.slot[a].state = TMO_SLOT_GOOD;
    next.trial_boots = 0;
    e = journal_store(u, &next, diag);
    return e != TMO_OK ? e : tmo_bundle_accept(&u->bundle, diag);
}

/* The state after giving up slot a: the other slot runs if it is GOOD, else nothing. */
static void give_up(tmo_update_state *next, uint8_t a)
{
    uint8_t o = (uint8_t)(a ^ 1u);
    slot_clear(&next->slot[a]);
    next->active = next->slot[o].state == TMO_SLOT_GOOD ? o : TMO_UPDATE_NO_SLOT;
    next->trial_boots = 0;
}

tmo_err tmo_update_revert(tmo_update *u, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL)
        return TMO_EINVAL;
    if (!on_trial(u))
        return fail(diag, TMO_ESTATE, "no trial to revert");
    tmo_update_state next = u->st;
    give_up(&next, u->st.active);
    tmo_bundle_close(&u->bundle);
    return journal_store(u, &next, diag);
}

static void report(tmo_boot_report *rep, uint8_t action, uint8_t slot, uint64_t tag, tmo_err why)
{
    if (rep == NULL)
        return;
    rep->action = action;
    rep->slot = slot;
    rep->tag = tag;
    rep->why = why;
}

/* Steps 1: an unconfirmed trial that met a restart is reverted (or its restarts counted). */
static tmo_err recover_trial(tmo_update *u, tmo_boot_report *rep, tmo_diag *diag)
{
    if (!on_trial(u))
        return TMO_OK;
    uint8_t a = u->st.active;
    tmo_update_state next = u->st;
    if (u->st.trial_boots < u->cfg.max_trial_boots) {
        next.trial_boots++;
        report(rep, TMO_BOOT_TRIAL_CONTINUES, TMO_UPDATE_NO_SLOT, u->st.slot[a].tag, TMO_OK);
    } else {
        give_up(&next, a);
        report(rep, TMO_BOOT_REVERTED, a, u->st.slot[a].tag, TMO_OK);
    }
    return journal_store(u, &next, diag);
}

/* A GOOD slot when nothing is active (possible only after a media fault); else the active slot. */
static uint8_t boot_candidate(const tmo_update *u)
{
    if (u->st.active != TMO_UPDATE_NO_SLOT)
        return u->st.active;
    for (uint8_t i = 0; i < TMO_UPDATE_SLOTS; i++)
        if (u->st.slot[i].state == TMO_SLOT_GOOD)
            return i;
    return TMO_UPDATE_NO_SLOT;
}

tmo_err tmo_update_boot(tmo_update *u, tmo_boot_report *rep, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL)
        return TMO_EINVAL;
    report(rep, TMO_BOOT_NONE, TMO_UPDATE_NO_SLOT, 0, TMO_OK);
    tmo_err e = recover_trial(u, rep, diag);
    if (e != TMO_OK)
        return e;
    /* Step 2: the slot to run must verify; otherwise fall back, at most once per slot. */
    for (int tries = 0; tries < TMO_UPDATE_SLOTS; tries++) {
        uint8_t a = boot_candidate(u);
        if (a == TMO_UPDATE_NO_SLOT) {
            if (rep != NULL && rep->action == TMO_BOOT_NONE)
                rep->action = TMO_BOOT_NO_MODEL;
            return TMO_OK;
        }
        e = slot_verify(u, a, u->st.slot[a].size, 0, diag);
        if (e == TMO_OK) {
            tmo_update_state next = u->st;
            next.active = a;
            if (next.active != u->st.active && (e = journal_store(u, &next, diag)) != TMO_OK)
                return e;
            /* Completes a confirmation cut between its journal record and the counter. */
            return u->st.slot[a].state == TMO_SLOT_GOOD ? tmo_bundle_accept(&u->bundle, diag)
                                                        : TMO_OK;
        }
        if (e <= TMO_EPORT_BASE)
            return e;
        tmo_update_state next = u->st;
        uint64_t tag = u->st.slot[a].tag;
        int was_trial = u->st.slot[a].state == TMO_SLOT_TRIAL;
        give_up(&next, a);
        tmo_err why = e;
        if ((e = journal_store(u, &next, diag)) != TMO_OK)
            return e;
        report(rep, was_trial ? TMO_BOOT_REVERTED : TMO_BOOT_FELL_BACK, a, tag, why);
        if (u->st.active == TMO_UPDATE_NO_SLOT && rep != NULL)
            rep->action = TMO_BOOT_NO_MODEL;
    }
    return TMO_OK;
}

tmo_err tmo_update_load_active(tmo_update *u, void *dest, size_t dest_len, size_t *model_len,
                               tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (u == NULL || model_len == NULL)
        return TMO_EINVAL;
    uint8_t a = u->st.active;
    if (a == TMO_UPDATE_NO_SLOT)
        return fail(diag, TMO_ESTATE, "no active model");
    tmo_port_reader r;
    tmo_bundle_env env = u->cfg.env;
    env.clock =
        NULL; /* time was judged at install; a wrong clock after a reset must not stop the model */
    tmo_bundle_close(&u->bundle);
    slot_reader_init(u, &u->verify_ctx, a, u->st.slot[a].size, &r);
    tmo_err e = tmo_bundle_verify(&u->bundle, &r, &env, diag);
    if (e == TMO_OK)
        e = tmo_bundle_load(&u->bundle, dest, dest_len, diag);
    if (e != TMO_OK) {
        tmo_bundle_close(&u->bundle);
        return e;
    }
    *model_len = (size_t)u->bundle.manifest.payload_size;
    return TMO_OK;
}
