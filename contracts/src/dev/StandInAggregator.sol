// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

/// @notice Development and test price feed only: Chainlink's AggregatorV3Interface as the API reads it on BSC
///         (`decimals`, `description`, `version`, `latestRoundData`, `getRoundData`), with answers its owner sets.
///         The devnet deploys one per priced coin so that the pages show amounts in a fiat currency; a test makes
///         a feed stale or negative to see the pages refuse to show a price.
contract StandInAggregator {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    address public immutable owner;
    uint8 public immutable decimals;
    string public description;
    uint256 public constant version = 4;
    uint80 public latestRound;
    mapping(uint80 roundId => Round) private rounds;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error NotOwner();
    error NoDataPresent();

    constructor(uint8 decimals_, string memory description_, int256 answer) {
        owner = msg.sender;
        decimals = decimals_;
        description = description_;
        _push(answer, block.timestamp);
    }

    /// @notice A new round answering `answer`, updated at this block's time.
    function setAnswer(int256 answer) external {
        if (msg.sender != owner) revert NotOwner();
        _push(answer, block.timestamp);
    }

    /// @notice A new round answering `answer` as of `updatedAt` (a test's way to make the feed stale).
    function setAnswerAt(int256 answer, uint256 updatedAt) external {
        if (msg.sender != owner) revert NotOwner();
        _push(answer, updatedAt);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return getRoundData(latestRound);
    }

    function getRoundData(uint80 roundId)
        public
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Round memory r = rounds[roundId];
        if (r.updatedAt == 0) revert NoDataPresent();
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function _push(int256 answer, uint256 updatedAt) private {
        latestRound += 1;
        rounds[latestRound] = Round(answer, updatedAt, updatedAt);
        emit AnswerUpdated(answer, latestRound, updatedAt);
    }
}
