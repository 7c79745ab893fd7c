package imagesig

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var timeZero time.Time

// Verify resolves imageRef to a digest and verifies it against p.
func (v *Verifier) Verify(ctx context.Context, imageRef string, p Policy) Result {
	r, res := v.resolve(ctx, imageRef)
	if res != nil {
		return *res
	}
	return v.verifyResolved(ctx, r, p)
}

// resolved is a reference resolved to a digest.
type resolved struct {
	ref      string
	repo     name.Repository
	digest   v1.Hash
	desc     v1.Descriptor     // media type, digest and size of the manifest
	index    *v1.IndexManifest // set for a multi-arch index
	registry string
}

func (v *Verifier) parse(imageRef string) (name.Reference, *Result) {
	if v.pullerErr != nil {
		r := failed(imageRef, "", KindUsage, "configuring registry client: %v", v.pullerErr)
		return nil, &r
	}
	ref, err := name.ParseReference(imageRef, v.nameOptions(imageRef)...)
	if err != nil {
		r := failed(imageRef, "", KindUsage, "invalid image reference: %v", err)
		return nil, &r
	}
	return ref, nil
}

func (v *Verifier) resolve(ctx context.Context, imageRef string) (*resolved, *Result) {
	ref, res := v.parse(imageRef)
	if res != nil {
		return nil, res
	}
	reg := ref.Context().RegistryStr()
	desc, err := v.puller.Get(ctx, ref)
	if err != nil {
		r := failed(imageRef, "", KindUnreachable, "resolving %s: %s", imageRef, unreachableReason(reg, err))
		return nil, &r
	}
	out := &resolved{ref: imageRef, repo: ref.Context(), digest: desc.Digest, desc: desc.Descriptor, registry: reg}
	if isIndex(desc.MediaType) {
		idx, err := desc.ImageIndex()
		if err == nil {
			out.index, err = idx.IndexManifest()
		}
		if err != nil {
			r := failed(imageRef, desc.Digest.String(), KindInvalid, "reading image index: %v", err)
			return nil, &r
		}
	}
	return out, nil
}

func (v *Verifier) verifyResolved(ctx context.Context, r *resolved, p Policy) Result {
	if err := p.Validate(); err != nil {
		return failed(r.ref, r.digest.String(), KindUsage, "policy: %v", err)
	}
	object := "manifest"
	if r.index != nil {
		object = "index"
	}
	res := v.verifyDigest(ctx, r, r.desc, object, p)
	if res.Verified || r.index == nil || res.Kind != KindUnsigned {
		return res
	}
	// The index is unsigned: accept a signature on our platform's manifest.
	plat := v.platform
	for _, m := range r.index.Manifests {
		if m.Platform == nil || !m.Platform.Satisfies(plat) {
			continue
		}
		obj := fmt.Sprintf("platform manifest %s", platformString(*m.Platform))
		pr := v.verifyDigest(ctx, r, m, obj, p)
		if pr.Verified {
			return pr
		}
		if pr.Kind == KindUnsigned {
			res.Reason = fmt.Sprintf("%s; nor for its %s %s", res.Reason, obj, m.Digest)
			return res
		}
		pr.Reason = fmt.Sprintf("index %s is unsigned; %s: %s", r.digest, obj, pr.Reason)
		return pr
	}
	res.Reason = fmt.Sprintf("%s; the index has no %s manifest", res.Reason, platformString(plat))
	return res
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// verifyDigest verifies the signatures attached to the manifest t (the
// image's, or one of its platform manifests).
func (v *Verifier) verifyDigest(ctx context.Context, r *resolved, t v1.Descriptor, object string, p Policy) Result {
	d := t.Digest
	base := Result{Ref: r.ref, Digest: r.digest.String(), SignedObject: object, SignedDigest: d.String()}
	fail := func(k Kind, format string, args ...any) Result {
		out := base
		out.Kind, out.Reason = k, fmt.Sprintf(format, args...)
		return out
	}

	wantTypes := map[string]string{} // predicate type -> attestation type
	for _, t := range p.AttestationTypes {
		pts, err := PredicateTypes(t)
		if err != nil {
			return fail(KindUsage, "%v", err)
		}
		for _, pt := range pts {
			wantTypes[pt] = t
		}
	}
	wantBundle := func(pt string) bool {
		if pt == "" || pt == cosignSignPredicate {
			return true
		}
		_, ok := wantTypes[pt]
		return ok
	}
	useCosign, useNotation := false, false
	for _, a := range p.Authorities {
		if a.Notation != nil {
			useNotation = true
		} else {
			useCosign = true
		}
	}

	// Fetch the places concurrently; the referrers are listed once for
	// cosign's bundles and notation's signatures alike.
	var (
		wg                                sync.WaitGroup
		sigs, atts                        []sigLayer
		bundles                           []referrerBundle
		nsigs                             []notationSig
		sigErr, attErr, bundleErr, ntnErr error
	)
	target := r.repo.Digest(d.String())
	wg.Add(1)
	go func() {
		defer wg.Done()
		descs, err := v.referrers(ctx, target)
		if err != nil {
			bundleErr = err // the listing serves notation too: reported once
			return
		}
		var inner sync.WaitGroup
		if useCosign {
			inner.Add(1)
			go func() {
				defer inner.Done()
				bundles, bundleErr = v.referrerBundles(ctx, target, descs, wantBundle)
			}()
		}
		if useNotation {
			nsigs, ntnErr = v.notationSigs(ctx, target, descs)
		}
		inner.Wait()
	}()
	if useCosign {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sigs, sigErr = v.legacyLayers(ctx, r.repo, d, "sig", simpleSigningMediaType)
		}()
	}
	if useCosign && len(wantTypes) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			atts, attErr = v.legacyLayers(ctx, r.repo, d, "att", dsseLayerMediaType)
		}()
	}
	wg.Wait()
	fetchErr := errors.Join(sigErr, bundleErr, attErr, ntnErr)

	nSigs := 0
	for _, l := range sigs {
		if l.mediaType == simpleSigningMediaType {
			nSigs++
		}
	}
	nSigs += len(bundles) + len(nsigs)
	if nSigs == 0 {
		if fetchErr != nil {
			return fail(KindUnreachable, "%s", unreachableReason(r.registry, fetchErr))
		}
		var looked []string
		if useCosign {
			looked = append(looked, fmt.Sprintf("tag %s-%s.sig and OCI referrers", d.Algorithm, d.Hex))
		}
		if useNotation {
			looked = append(looked, "Notary Project signatures among the OCI referrers")
		}
		return fail(KindUnsigned, "no signatures for %s %s (looked for %s)", object, d, strings.Join(looked, "; "))
	}

	var best *verr
	note := func(e *verr) {
		if best == nil || e.rank() > best.rank() {
			best = e
		}
	}
	for ai, a := range p.Authorities {
		if a.Notation != nil {
			if len(p.AttestationTypes) > 0 {
				note(newVerr(KindUnsigned, "notation authority %d cannot provide the required %s attestation", ai+1, strings.Join(p.AttestationTypes, ", ")))
				continue
			}
			for _, ns := range nsigs {
				vs, warnings, e := v.verifyNotation(ctx, ns, a.Notation, r.repo, t)
				if e != nil {
					if e.kind == KindUsage {
						return fail(KindUsage, "authority %d: %s", ai+1, e.msg)
					}
					note(e)
					continue
				}
				out := base
				out.Verified, out.Signature, out.Warnings = true, ns.manifestDigest, warnings
				out.Format = FormatNotationJWS
				if ns.mediaType != jwsMediaType {
					out.Format = FormatNotationCOSE
				}
				s := vs.signer
				out.Signer = &s
				return out
			}
			continue
		}
		var keys []keyEntry
		if !a.Keyless() {
			var err error
			if keys, err = loadKeys(a); err != nil {
				return fail(KindUsage, "authority %d: %v", ai+1, err)
			}
		}
		// Signature first.
		var signed *verifiedStatement
		var format, sigName string
		for _, l := range sigs {
			if l.mediaType != simpleSigningMediaType {
				continue
			}
			vs, e := v.verifyLegacySig(l, a, keys, d.Algorithm, d.Hex)
			if e != nil {
				if e.kind == KindUsage {
					return fail(KindUsage, "%s", e.msg)
				}
				note(e)
				continue
			}
			signed, format, sigName = &vs, FormatLegacySig, fmt.Sprintf("%s-%s.sig", d.Algorithm, d.Hex)
			break
		}
		// Bundles are verified once each; their statements serve both the
		// signature and the attestations.
		var bundleStmts []verifiedStatement
		for _, b := range bundles {
			vs, e := v.verifyBundle(b.content, a, keys, d.Algorithm, d.Hex)
			if e != nil {
				if e.kind == KindUsage {
					return fail(KindUsage, "%s", e.msg)
				}
				note(e)
				continue
			}
			bundleStmts = append(bundleStmts, vs)
			if signed == nil && (vs.predicateType == "" || vs.predicateType == cosignSignPredicate) {
				vsc := vs
				signed, format, sigName = &vsc, FormatBundle, b.manifestDigest
			}
		}
		if signed == nil {
			continue
		}
		// Attestations from the same authority.
		found := map[string]Attestation{}
		for _, vs := range bundleStmts {
			if t, ok := wantTypes[vs.predicateType]; ok {
				found[t] = Attestation{Type: t, PredicateType: vs.predicateType, Format: FormatBundle}
			}
		}
		if len(found) < len(p.AttestationTypes) {
			for _, l := range atts {
				if l.mediaType != dsseLayerMediaType {
					continue
				}
				vs, e := v.verifyLegacyAttestation(l, a, keys, d.Algorithm, d.Hex)
				if e != nil {
					if e.kind == KindUsage {
						return fail(KindUsage, "%s", e.msg)
					}
					note(e)
					continue
				}
				if t, ok := wantTypes[vs.predicateType]; ok {
					if _, dup := found[t]; !dup {
						found[t] = Attestation{Type: t, PredicateType: vs.predicateType, Format: FormatLegacySig}
					}
				}
			}
		}
		var missing []string
		out := base
		for _, t := range p.AttestationTypes {
			if at, ok := found[t]; ok {
				out.Attestations = append(out.Attestations, at)
			} else {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			e := newVerr(KindUnsigned, "signed by %s, but no verified %s attestation from that authority for %s",
				signed.signer, strings.Join(missing, ", "), d)
			if attErr != nil || bundleErr != nil {
				e = newVerr(KindUnreachable, "signed by %s, but attestations could not be read: %s", signed.signer, unreachableReason(r.registry, errors.Join(attErr, bundleErr)))
			}
			// A missing attestation outranks "another key signed it".
			if best == nil || best.kind != KindInvalid {
				best = e
			}
			continue
		}
		out.Verified, out.Format, out.Signature = true, format, sigName
		s := signed.signer
		out.Signer = &s
		return out
	}
	if best == nil {
		return fail(KindUnsigned, "no signatures for %s %s", object, d)
	}
	return fail(best.kind, "%s", best.msg)
}

// VerifyAll verifies many references. Each distinct reference is resolved
// once; each distinct (digest, policy) is verified once, at most
// WithConcurrency verifications running at a time. References for which
// policyFor returns false are skipped and absent from the result.
func (v *Verifier) VerifyAll(ctx context.Context, refs []string, policyFor func(ref string) (Policy, bool)) map[string]Result {
	type job struct {
		ref string
		pol Policy
	}
	var jobs []job
	seen := map[string]bool{}
	for _, r := range refs {
		if seen[r] {
			continue
		}
		seen[r] = true
		if pol, ok := policyFor(r); ok {
			jobs = append(jobs, job{r, pol})
		}
	}

	var (
		mu      sync.Mutex
		out     = make(map[string]Result, len(jobs))
		flights = map[string]*flight{}
		sem     = make(chan struct{}, v.jobs)
		wg      sync.WaitGroup
	)
	for _, j := range jobs {
		wg.Add(1)
		go func(j job) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				out[j.ref] = failed(j.ref, "", KindUnreachable, "not verified: %v", ctx.Err())
				mu.Unlock()
				return
			}
			res := func() Result {
				defer func() { <-sem }()
				r, fr := v.resolve(ctx, j.ref)
				if fr != nil {
					return *fr
				}
				key := r.repo.Name() + "@" + r.digest.String() + "#" + j.pol.fingerprint()
				mu.Lock()
				f, ok := flights[key]
				if !ok {
					f = &flight{done: make(chan struct{})}
					flights[key] = f
				}
				mu.Unlock()
				if ok {
					<-f.done
					res := f.res
					res.Ref = j.ref
					return res
				}
				f.res = v.verifyResolved(ctx, r, j.pol)
				close(f.done)
				return f.res
			}()
			mu.Lock()
			out[j.ref] = res
			mu.Unlock()
		}(j)
	}
	wg.Wait()
	return out
}

// flight is one in-progress verification others may wait on.
type flight struct {
	done chan struct{}
	res  Result
}
