use anchor_lang::prelude::*;

/// Every rejection has its own code so clients and tests can tell causes apart.
#[error_code]
#[derive(PartialEq, Eq)]
pub enum ErrorCode {
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Signer is not the exchange governance authority")]
    NotGovernance,
    #[msg("Signer is not the margin account owner")]
    NotAccountOwner,
    #[msg("Signer is neither the margin account owner nor its delegate")]
    NotOwnerOrDelegate,
    #[msg("Token account mint is not the exchange collateral mint")]
    WrongCollateralMint,
    #[msg("Vault account is not the exchange vault")]
    WrongVault,
    #[msg("Source token account is not owned by the signer")]
    SourceNotOwnedBySigner,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Withdrawal exceeds the account's settled collateral")]
    InsufficientCollateral,
    #[msg("Action would leave initial-margin health below zero")]
    InsufficientInitialMargin,
    #[msg("Account still has positions, orders or collateral")]
    AccountNotEmpty,
    #[msg("This operation is paused")]
    OperationPaused,
    #[msg("Initial margin ratio must exceed maintenance margin ratio")]
    InitialNotAboveMaintenance,
    #[msg("Maintenance margin ratio must exceed liquidation fee")]
    MaintenanceNotAboveLiquidationFee,
    #[msg("A market parameter is outside its hard bounds")]
    MarketParamOutOfBounds,
    #[msg("Oracle staleness config invalid: trading limit must not exceed margin limit")]
    StalenessConfigInvalid,
    #[msg("Market name must be non-empty ASCII")]
    InvalidMarketName,
    #[msg("Oracle account is not owned by the oracle program")]
    OracleWrongOwner,
    #[msg("Oracle account could not be decoded")]
    OracleUndecodable,
    #[msg("Oracle feed does not match the market's configured feed")]
    OracleFeedMismatch,
    #[msg("Pyth update is not fully verified")]
    OracleNotFullyVerified,
    #[msg("Oracle price is zero or negative")]
    OracleNonPositive,
    #[msg("Oracle confidence interval too wide")]
    OracleTooUncertain,
    #[msg("Oracle price too stale for margin")]
    OracleStaleForMargin,
    #[msg("Oracle price too stale for trading")]
    OracleStaleForTrading,
    #[msg("Oracle exponent out of supported range")]
    OracleExponentOutOfRange,
    #[msg("Remaining accounts do not cover every market the account holds")]
    MissingMarketAccounts,
    #[msg("Remaining market account does not match the position's market")]
    MarketAccountMismatch,
    #[msg("Delegate cannot be the owner")]
    InvalidDelegate,
    #[msg("More market accounts than one health check can hold")]
    TooManyMarketAccounts,
    #[msg("The instruction's own market was passed again in remaining accounts")]
    DuplicateMarketAccount,
    #[msg("Market index does not match the market account")]
    WrongMarket,
    #[msg("Order price must be a positive multiple of the tick size")]
    InvalidOrderPrice,
    #[msg("Order size must be a multiple of the step size and at least the minimum")]
    InvalidOrderSize,
    #[msg("Expiry slot is in the past")]
    OrderExpiryInPast,
    #[msg("No free order slot")]
    TooManyOrders,
    #[msg("No free position slot")]
    TooManyPositions,
    #[msg("Order not found")]
    OrderNotFound,
    #[msg("Order has expired")]
    OrderExpired,
    #[msg("Orders are on the same side")]
    SameSide,
    #[msg("Orders do not cross")]
    OrdersDoNotCross,
    #[msg("A post-only order cannot take liquidity")]
    PostOnlyCannotTake,
    #[msg("Taker and maker belong to the same owner")]
    SelfTrade,
    #[msg("Fill price is outside the band around the oracle price")]
    FillPriceOutOfBand,
    #[msg("Nothing to fill (reduce-only order with nothing to reduce, or zero size)")]
    NothingToFill,
    #[msg("Maker would fall below initial margin after the fill")]
    MakerInsufficientMargin,
    #[msg("Open interest cap reached")]
    MaxOpenInterestExceeded,
    #[msg("Funding period has not elapsed")]
    FundingNotDue,
    #[msg("Filler reward account does not belong to the filler")]
    WrongFillerAccount,
    #[msg("Invalid order side")]
    InvalidOrderSide,
    #[msg("Account is above maintenance margin")]
    AccountNotLiquidatable,
    #[msg("Account is bankrupt: resolve the bankruptcy instead")]
    AccountBankrupt,
    #[msg("An account cannot liquidate itself")]
    CannotLiquidateSelf,
    #[msg("This account was already liquidated in this slot")]
    LiquidationThrottled,
    #[msg("Account has no position in this market")]
    NoPositionInMarket,
    #[msg("Liquidator would fall below initial margin")]
    LiquidatorInsufficientMargin,
    #[msg("Liquidation step rounds to zero")]
    LiquidationTooSmall,
    #[msg("Insurance fund holds no value behind its shares")]
    InsuranceFundDepleted,
    #[msg("Account is not bankrupt")]
    NotBankrupt,
    #[msg("Insurance fund cannot cover anything for this market now")]
    InsuranceCannotCover,
    #[msg("Insurance fund can still cover: resolve the bankruptcy first")]
    InsuranceCanStillCover,
    #[msg("ADL candidate is on the same side as the bankrupt position")]
    CandidateSameSide,
    #[msg("ADL candidate has no profit at the ADL price")]
    CandidateNotProfitable,
    #[msg("ADL candidate's score is below the market's threshold")]
    CandidateBelowThreshold,
    #[msg("ADL candidates must be in non-increasing score order")]
    CandidatesOutOfOrder,
    #[msg("ADL candidate holds no position in this market")]
    CandidateNoPosition,
    #[msg("ADL candidate account must be writable")]
    CandidateNotWritable,
    #[msg("Bankrupt account still holds positions: deleverage them first")]
    AccountStillHasPositions,
    #[msg("Market has no open interest to spread a loss over")]
    NoOpenInterest,
    #[msg("Withdrawal relies on PnL in a market that just had bad debt")]
    WithdrawalGatedByBadDebt,
    #[msg("Unstake cooldown has not elapsed")]
    UnstakeCooldown,
    #[msg("No unstake request pending")]
    NoUnstakeRequest,
    #[msg("Not enough unrequested shares")]
    InsufficientShares,
    #[msg("Withdrawal would take the insurance fund below its floor or beyond protocol revenue")]
    InsuranceRevenueFloor,
    #[msg("An unstake request is already pending")]
    UnstakeAlreadyRequested,
    #[msg("Market is halted by its circuit breaker")]
    MarketHalted,
    #[msg("Market is reduce-only: no new risk")]
    MarketReduceOnly,
    #[msg("Signer is neither the guardian nor governance")]
    NotGuardianOrGovernance,
    #[msg("Only governance can loosen this")]
    OnlyGovernanceCanLoosen,
    #[msg("Signer is not the pending authority")]
    NotPendingAuthority,
    #[msg("No pending risk change")]
    NoPendingRiskChange,
    #[msg("Timelock has not elapsed")]
    TimelockNotElapsed,
    #[msg("Unknown operation bits")]
    UnknownOperations,
    #[msg("Market index must be the exchange's market count (markets are numbered densely)")]
    MarketIndexNotNext,
    #[msg("Oracle update is older than one this market already accepted (replay)")]
    OracleReplayed,
    #[msg("Oracle price is older than the hard maximum age for any action")]
    OracleTooOld,
    #[msg("Oracle price diverges from its own EMA, or the fallback from the market's last valid price")]
    OracleDiverged,
    #[msg("Bankrupt accounts cannot trade")]
    BankruptCannotTrade,
    #[msg("Fill would leave an under-maintenance account worse off than liquidation at the oracle")]
    FillWorseThanLiquidation,
    #[msg("The account's loss did not come from this market")]
    NotLossMarket,
    #[msg("Unstake request expired: request again")]
    UnstakeRequestExpired,
    #[msg("A bankruptcy is pending: the insurance fund is locked until it is resolved")]
    InsuranceLossPending,
    #[msg("Shares staked within the last cooldown cannot be requested for unstaking yet")]
    StakeStillWarmingUp,
    #[msg("Recently realised profit is locked for the bad-debt window")]
    ProfitLocked,
    #[msg("Signer is not the program's upgrade authority")]
    NotUpgradeAuthority,
    #[msg("Account is not the program's ProgramData account")]
    WrongProgramData,
    #[msg("The guardian may only pause operations that add risk or move money out")]
    GuardianCannotPause,
    #[msg("Trigger order has not fired: it cannot fill yet")]
    OrderNotTriggered,
    #[msg("Market orders only take; they cannot rest as the maker of a fill")]
    MarketOrderCannotMake,
    #[msg("Unknown order kind or trigger, or a combination the program does not offer")]
    InvalidOrderKind,
    #[msg("Trigger price is on the wrong side of the oracle: the order would fire at once")]
    TriggerWrongSide,
    #[msg("Trigger condition has not been met at the oracle price")]
    TriggerConditionNotMet,
    #[msg("Order is not an unfired trigger order")]
    NotATriggerOrder,
    #[msg("Peg offset is beyond the market's fill band, not a tick multiple, or on an unpegged order")]
    PegOffsetOutOfBounds,
    #[msg("Unknown time in force, or one that does not go with this order")]
    InvalidTimeInForce,
    #[msg("Fill-or-kill order could not be filled in full")]
    FillOrKillNotFilled,
    #[msg("No maker within the market order's worst price")]
    SlippageLimitExceeded,
    #[msg("Post-only order would cross a resting order")]
    PostOnlyWouldCross,
    #[msg("Too many makers for one place_and_take, or fewer maker accounts than order ids")]
    TooManyMakers,
    #[msg("Maker account must be writable")]
    MakerNotWritable,
    #[msg("The same maker account is passed twice")]
    DuplicateMaker,
    #[msg("Keeper account must be the signer's own, and not the order's account")]
    WrongKeeperAccount,
    #[msg("Makers must be passed best price first")]
    MakersOutOfPriceOrder,
    #[msg("This order is priced at the oracle: the price must be at most ORDER_PRICE_MAX_AGE_SECONDS old")]
    OrderPriceTooOld,
    #[msg("A keeper-matched market order may not fill further from the oracle than liquidation would cost")]
    MarketFillTooFarFromOracle,
}
