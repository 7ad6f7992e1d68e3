/// Energy-based and autoregressive models (derivations.md section 5): EBM-01 .. EBM-03, AR-01.
module Research.Proofs.Energy

open Research.Proofs.Claims

let family = "Energy"
let claims: Claim list = []
let controls: Control list = []
