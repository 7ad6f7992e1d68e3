/// GAN (docs/claims.md): GAN-01 .. GAN-03, by adaptive Gauss–Kronrod in x (section 15.3). The objective's integrands
/// are the library's losses (Research.Models.Gan.DiscriminatorLoss and GeneratorLoss, on logits) evaluated point by
/// point; the other side (D*, JS, KL) is F#.
module Research.Proofs.Gan

open System
open FsCheck.FSharp
open Research.Torch
open Research.Proofs.Claims
open Research.Proofs.Numerics
open Research.Proofs.Generators
open Research.Proofs.Fixtures
open Research.Proofs.Divergences

let family = "GAN"

/// log D*(x) = -log1p(Q/P) and log(1 - D*) = log D* + log Q - log P, in log space (GAN-01).
let logDStar (p: Density1) (q: Density1) x =
    let r = q.LogPdf x - p.LogPdf x
    let ld = if r > 0.0 then -r - log1p (exp -r) else -log1p (exp r)
    ld, ld + r

/// log D at one logit from the library's non-saturating generator loss: GeneratorLoss([l]) = -log D.
let libraryLogD (l: float) =
    use scope = torch.NewDisposeScope()
    -(Research.Models.Gan.GeneratorLoss(torch.tensor [| l |]).ToDouble())

/// log(1 - D) at one logit from the library's discriminator loss: DiscriminatorLoss([l], [l]) = -log D - log(1 - D).
let libraryLog1mD (l: float) =
    use scope = torch.NewDisposeScope()
    let both = Research.Models.Gan.DiscriminatorLoss(torch.tensor [| l |], torch.tensor [| l |]).ToDouble()
    -both - libraryLogD l

/// V(D) = E_P log D + E_Q log(1 - D) for D given by its logit, the integrands from the library's losses.
let value (p: Density1) (q: Density1) (logit: float -> float) =
    expectationUnder p (logit >> libraryLogD) q.Breakpoints + expectationUnder q (logit >> libraryLog1mD) p.Breakpoints

let starLogit (p: Density1) (q: Density1) x = p.LogPdf x - q.LogPdf x

/// `swapped` uses the logit of q / (p + q), real and fake labels exchanged (GAN-01's control).
let gan01With swapped =
    let starLogit p q x = if swapped then -(starLogit p q x) else starLogit p q x
    let pairs =
        (gaussian1 0.0 1.0, gaussian1 1.0 1.0)
        :: (sample 2001 4 (Gen.zip (Generators.mixtureParameters 1) (Generators.mixtureParameters 1))
            |> List.map (fun ((w1, m1, c1), (w2, m2, c2)) -> mixture1 (Gmm.create w1 m1 c1), mixture1 (Gmm.create w2 m2 c2)))
    pairs
    |> List.collect (fun (p, q) ->
        let vStar = value p q (starLogit p q)
        let gaps = [ 0.1; 0.05; 0.025 ] |> List.map (fun d -> d, vStar - value p q (fun x -> starLogit p q x + d * tanh x), vStar - value p q (fun x -> starLogit p q x - d * tanh x))
        let ld, l1 = logDStar p q 30.0
        [ Check.isTrue "V(D_delta) < V(D*) for delta in {+-0.1, +-0.05, +-0.025}" (gaps |> List.forall (fun (_, a, b) -> a > 0.0 && b > 0.0))
          Check.within "gap ratio when delta halves in [3.8, 4.2] (quadratic optimum)" (gaps |> List.pairwise |> List.map (fun ((_, a, _), (_, b, _)) -> abs (a / b - 4.0)) |> List.max) 0.2
          Check.isTrue "log D* and log(1 - D*) finite in the tails" (Double.IsFinite ld && Double.IsFinite l1) ])
    |> List.groupBy (fun c -> c.What) |> List.map (snd >> Check.worst)

/// G_theta(z) = mu + s z with z ~ N(0, 1), so Q_theta = N(mu, s^2); P = G1.
let generatorCase = Gen.zip (uniform -1.0 1.0) (uniform 0.5 1.5)

/// d/dmu of E_z h(G_theta(z)) with h frozen, by differentiating under the integral in x:
/// E_z h(mu + s z) = int N(x; mu, s^2) h(x) dx, so the mu-derivative is int N (x - mu)/s^2 h.
let frozenGradient mu s (h: float -> float) extra =
    integrateLine (fun x -> normalPdf mu (s * s) x * (x - mu) / (s * s) * h x) (List.ofSeq (breakpointsAround [ mu, s ]) @ extra)

/// GAN-02: the frozen-D gradient of E log(1 - D) equals d/dmu 2 JS(P || Q_mu); `shift` moves D off D*.
let envelopeChecks shift =
    let p = mixture1 Gmm.g1
    sample 2002 4 generatorCase
    |> List.map (fun (mu, s) ->
        let q = gaussian1 mu (s * s)
        let log1mD x = snd (logDStar p q (x - shift))
        let frozen = frozenGradient mu s log1mD p.Breakpoints
        let fd = derivative (fun m -> 2.0 * jsExplicit p (gaussian1 m (s * s))) mu 1e-4
        Check.relClose "frozen-D* gradient = d/dmu 2 JS(P || Q) [D]" 1e-6 frozen fd)

let gan02 () =
    let p, q = gaussian1 0.0 1.0, gaussian1 1.0 1.0
    let vStar = value p q (starLogit p q)
    [ Check.close "golden V(D*) = -1.163451396750418" 1e-10 vStar -1.163451396750418
      Check.close "V(D*) = 2 JS - log 4" 1e-10 vStar (2.0 * jsExplicit p q - log 4.0) ]
    @ [ Check.worst (envelopeChecks 0.0) ]

/// `forward` differentiates KL(P || Q) where the claim has KL(Q || P) (GAN-03's control).
let gan03Gradients forward =
    let pg = mixture1 Gmm.g1
    sample 2003 4 generatorCase
    |> List.collect (fun (mu, s) ->
        let q = gaussian1 mu (s * s)
        let logRatio x = let ld, l1 = logDStar pg q x in l1 - ld
        let minusLogD x = -(libraryLogD (starLogit pg q x))
        let kl m = if forward then klExplicit pg (gaussian1 m (s * s)) else klExplicit (gaussian1 m (s * s)) pg
        [ Check.relClose "frozen gradient of E log((1-D*)/D*) = d/dmu KL(Q || P) [D]" 1e-6 (frozenGradient mu s logRatio pg.Breakpoints) (derivative kl mu 1e-4)
          Check.relClose "frozen gradient of the library's E -log D* (GeneratorLoss) = d/dmu [KL(Q||P) - 2 JS] [D]" 1e-6 (frozenGradient mu s minusLogD pg.Breakpoints) (derivative (fun m -> kl m - 2.0 * jsExplicit pg (gaussian1 m (s * s))) mu 1e-4) ])
    |> List.groupBy (fun c -> c.What) |> List.map (snd >> Check.worst)

let gan03 () =
    let p, q = gaussian1 0.0 1.0, gaussian1 1.0 1.0
    let golden = expectationUnder q (fun x -> let ld, l1 = logDStar p q x in l1 - ld) p.Breakpoints
    Check.close "golden E_Q log((1-D*)/D*) = KL(N(1,1)||N(0,1)) = 0.5" 1e-10 golden 0.5 :: gan03Gradients false

let claims =
    [ claim "GAN-01" "optimal discriminator" family (fun () -> gan01With false)
      claim "GAN-02" "V(G, D*) = 2 JS - log 4; envelope gradient" family gan02
      claim "GAN-03" "combined generator objective = KL(Q || P) at D*" family gan03 ]

let controls =
    [ control "GAN-02" "frozen non-optimal discriminator D*(x - 0.3)" family (fun () -> envelopeChecks 0.3)
      control "GAN-01" "D = q / (p + q): real and fake labels swapped" family (fun () -> gan01With true)
      control "GAN-03" "KL(P || Q) in place of the reverse KL(Q || P)" family (fun () -> gan03Gradients true) ]
