// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Vm} from "./Vm.sol";

/// @notice Minimal Hardhat/Foundry console: calls the console address, which forge prints with -vv.
library console {
    Vm private constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function _send(bytes memory payload) private view {
        // A staticcall keeps the helpers `view`; forge intercepts the call and never executes code there.
        (bool ok,) = CONSOLE.staticcall(payload);
        ok;
    }

    function log(string memory s) internal view {
        _send(abi.encodeWithSignature("log(string)", s));
    }

    function log(string memory s, uint256 v) internal view {
        _send(abi.encodeWithSignature("log(string,uint256)", s, v));
    }

    function log(string memory s, address v) internal view {
        _send(abi.encodeWithSignature("log(string,address)", s, v));
    }

    /// @dev console has no (string,bytes32) overload: print the word as a 0x-hex string.
    function log(string memory s, bytes32 v) internal view {
        _send(abi.encodeWithSignature("log(string,string)", s, VM.toString(v)));
    }

    function log(string memory s, string memory v) internal view {
        _send(abi.encodeWithSignature("log(string,string)", s, v));
    }
}
