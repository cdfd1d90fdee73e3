// The members' pay-facts strings (src/user/pay-facts.tsx), a surface of their own (src/i18n/member/index.ts): they load
// with the dashboard and the registration, never with the first page. Every other catalogue here has exactly these keys
// (npm run i18n:check), and none is the dApp's or the console's.
export default {
  "pf.you_pay": "You pay {amount}",
  "pf.approx": "≈ {fiat}",
  "pf.fee_native": "plus a network fee of about {fee}, charged by your wallet.",
  "pf.fee_token": "plus a network fee of about {fee}, charged by your wallet (with the token's approval, when it asks for one).",
  "pf.fee_unknown": "plus a network fee your wallet shows before you confirm (it could not be estimated now).",
  "pf.price_stale": "No current {symbol} price: the feed's last answer is from {when}.",
  "pf.price_invalid": "The {symbol} price feed gives no usable price now.",
  "pf.price_unavailable": "The {symbol} price could not be read now.",
  "pf.risk": "You can lose what you pay: what you receive depends on people who join after you.",
  "pf.who": "Who runs this, the rules and the terms",
  "pf.operator": "Run by {legal} ({name}).",
  "pf.registration": "Registration: {text}",
  "pf.address": "Address: {text}",
  "pf.contact": "Contact: {email}",
  "pf.jurisdiction": "Governing law: {text}",
  "pf.terms": "Terms",
  "pf.privacy": "Privacy notice",
  "pf.rules": "The plan's rules and odds",
  "pf.no_operator": "The operator has published no identity or terms: think twice before paying someone you cannot name.",
  "pf.source": "Prices in {currency} from an on-chain price feed, as of {when}.",
  "sp.member_since": {"one": "member no. {n} in {symbol} since {when}, {referrals} direct referral", "other": "member no. {n} in {symbol} since {when}, {referrals} direct referrals"},
  "sp.member_genesis": {"one": "the operator's own account in {symbol}, {referrals} direct referral", "other": "the operator's own account in {symbol}, {referrals} direct referrals"},
  "sp.not_member": "This address is not a member in {symbol}: a registration naming it would be refused. Ask your sponsor for their link again.",
  "sp.frozen": "The operator has frozen this sponsor in {symbol}: a registration naming them is refused while they are frozen.",
};
