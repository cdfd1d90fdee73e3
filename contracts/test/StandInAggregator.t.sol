// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {StandInAggregator} from "../src/dev/StandInAggregator.sol";

/// The devnet's price feed answers as Chainlink's AggregatorV3Interface does, and only its owner moves it.
contract StandInAggregatorTest is Test {
    StandInAggregator feed;

    function setUp() public {
        vm.warp(1_700_000_000);
        feed = new StandInAggregator(8, "BNB / USD", 612_34000000);
    }

    function test_latestRoundData_answersTheLastSetRound() public {
        (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(uint256(id), 1, "id");
        assertEq(uint256(answer), 612_34000000, "answer");
        assertEq(startedAt, 1_700_000_000, "startedAt");
        assertEq(updatedAt, 1_700_000_000, "updatedAt");
        assertEq(uint256(answeredIn), 1, "answeredIn");
        assertEq(uint256(feed.decimals()), 8, "feed.decimals()");

        vm.warp(1_700_000_600);
        feed.setAnswer(600_00000000);
        (id, answer,, updatedAt,) = feed.latestRoundData();
        assertEq(uint256(id), 2, "id");
        assertEq(uint256(answer), 600_00000000, "answer");
        assertEq(updatedAt, 1_700_000_600, "updatedAt");
        (, answer,,,) = feed.getRoundData(1);
        assertEq(uint256(answer), 612_34000000, "an earlier round keeps its answer");
    }

    function test_setAnswerAt_backdatesARound() public {
        feed.setAnswerAt(1_00000000, 1_600_000_000);
        (,,, uint256 updatedAt,) = feed.latestRoundData();
        assertEq(updatedAt, 1_600_000_000, "updatedAt");
    }

    function test_onlyTheOwnerSetsAnswers() public {
        vm.prank(address(0xBEEF));
        vm.expectRevert(StandInAggregator.NotOwner.selector);
        feed.setAnswer(1);
        vm.expectRevert(StandInAggregator.NoDataPresent.selector);
        feed.getRoundData(7);
    }
}
