//! Every instruction's pause gate, in one table (Mango's `IxGate`, Drift's paused operations).
//! A handler checks its own entry with `exchange.require_open(gates::NAME)`; `app/idl`'s test walks every
//! instruction of the IDL against this table, and the integration suite sends every gated
//! instruction with its bit closed. 0 = never paused, with the reason beside it.
use crate::state::paused_operations::*;

pub const INITIALIZE_EXCHANGE: u16 = 0; // creates the exchange: nothing to pause yet
pub const CREATE_MARKET: u16 = 0; // governance only
pub const CREATE_MARGIN_ACCOUNT: u16 = ACCOUNT_LIFECYCLE;
pub const SET_DELEGATE: u16 = 0; // no exchange state; a delegate can only trade (gated) and never withdraw
pub const DEPOSIT: u16 = DEPOSIT_BIT;
pub const WITHDRAW: u16 = WITHDRAW_BIT;
pub const CLOSE_MARGIN_ACCOUNT: u16 = 0; // only an empty account closes: nothing of value leaves
pub const PLACE_ORDER: u16 = TRADING;
pub const CANCEL_ORDER: u16 = 0; // cancelling only removes risk
pub const CANCEL_ALL_ORDERS: u16 = 0; // cancelling only removes risk
pub const PRUNE_EXPIRED_ORDERS: u16 = 0; // removes orders that can no longer fill
pub const FILL_ORDERS: u16 = TRADING;
pub const PLACE_AND_TAKE: u16 = TRADING;
pub const TRIGGER_ORDER: u16 = TRADING;
pub const UPDATE_FUNDING: u16 = FUNDING;
pub const LIQUIDATE: u16 = LIQUIDATION;
pub const RESOLVE_BANKRUPTCY: u16 = LIQUIDATION;
pub const AUTO_DELEVERAGE: u16 = LIQUIDATION;
pub const SOCIALIZE_LOSS: u16 = LIQUIDATION;
pub const OPEN_INSURANCE_STAKE: u16 = 0; // creates an empty stake account: nothing moves
pub const STAKE_INSURANCE: u16 = INSURANCE;
pub const REQUEST_UNSTAKE: u16 = INSURANCE;
pub const UNSTAKE_INSURANCE: u16 = INSURANCE;
pub const WITHDRAW_PROTOCOL_REVENUE: u16 = INSURANCE;
pub const REFRESH_MARKET: u16 = 0; // the breaker's crank: it can only make a market stricter or reset it on calm prices
pub const PAUSE_OPERATIONS: u16 = 0; // the gate itself
pub const RESUME_OPERATIONS: u16 = 0; // the gate itself
pub const SET_MARKET_REDUCE_ONLY: u16 = 0; // guardian/governance safety switch
pub const PROPOSE_AUTHORITY: u16 = 0; // governance
pub const ACCEPT_AUTHORITY: u16 = 0; // governance handover
pub const SET_GUARDIAN: u16 = 0; // governance
pub const UPDATE_RISK_PARAMS: u16 = 0; // governance, bounded and timelocked
pub const EXECUTE_RISK_UPDATE: u16 = 0; // executes what governance queued
pub const CANCEL_RISK_UPDATE: u16 = 0; // governance or guardian

/// Every instruction and its gate, for the table test and for clients.
pub const TABLE: &[(&str, u16)] = &[
    ("initialize_exchange", INITIALIZE_EXCHANGE),
    ("create_market", CREATE_MARKET),
    ("create_margin_account", CREATE_MARGIN_ACCOUNT),
    ("set_delegate", SET_DELEGATE),
    ("deposit", DEPOSIT),
    ("withdraw", WITHDRAW),
    ("close_margin_account", CLOSE_MARGIN_ACCOUNT),
    ("place_order", PLACE_ORDER),
    ("cancel_order", CANCEL_ORDER),
    ("cancel_all_orders", CANCEL_ALL_ORDERS),
    ("prune_expired_orders", PRUNE_EXPIRED_ORDERS),
    ("fill_orders", FILL_ORDERS),
    ("place_and_take", PLACE_AND_TAKE),
    ("trigger_order", TRIGGER_ORDER),
    ("update_funding", UPDATE_FUNDING),
    ("liquidate", LIQUIDATE),
    ("resolve_bankruptcy", RESOLVE_BANKRUPTCY),
    ("auto_deleverage", AUTO_DELEVERAGE),
    ("socialize_loss", SOCIALIZE_LOSS),
    ("open_insurance_stake", OPEN_INSURANCE_STAKE),
    ("stake_insurance", STAKE_INSURANCE),
    ("request_unstake", REQUEST_UNSTAKE),
    ("unstake_insurance", UNSTAKE_INSURANCE),
    ("withdraw_protocol_revenue", WITHDRAW_PROTOCOL_REVENUE),
    ("refresh_market", REFRESH_MARKET),
    ("pause_operations", PAUSE_OPERATIONS),
    ("resume_operations", RESUME_OPERATIONS),
    ("set_market_reduce_only", SET_MARKET_REDUCE_ONLY),
    ("propose_authority", PROPOSE_AUTHORITY),
    ("accept_authority", ACCEPT_AUTHORITY),
    ("set_guardian", SET_GUARDIAN),
    ("update_risk_params", UPDATE_RISK_PARAMS),
    ("execute_risk_update", EXECUTE_RISK_UPDATE),
    ("cancel_risk_update", CANCEL_RISK_UPDATE),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Liquidation and the waterfall can only be stopped by governance.
    #[test]
    fn guardian_cannot_stop_de_risking() {
        for gate in [LIQUIDATE, RESOLVE_BANKRUPTCY, AUTO_DELEVERAGE, SOCIALIZE_LOSS, DEPOSIT] {
            assert_eq!(gate & GUARDIAN_PAUSABLE, 0);
        }
    }
}
