# mutants.py - the weakenings of the trust code run by tests/mutation/run.py
# (docs/reliability.md, "Mutation testing"). Each is (id, file, old, new,
# what): old must occur exactly once in file; new replaces it. Plausible
# bugs a refactor could bring: prefixes instead of equality, dropped length
# or skew checks, "!= 1" turned into "< 0", removed path, signature, CRL or
# allow-list checks, off-by-one bounds.
UA = 'src/ua/uachal.c'; UT = 'src/ua/uatrust.c'; CV = 'src/crypto/cms_verify.c'
CK = 'src/crypto/cms_keys.c'; LB = 'src/e2m/label.c'; PO = 'src/e2m/policy.c'
M = [
 # ---- uachal.c
 ('U1', UA, 'return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);',
  'size_t n_ = a.len < b.len ? a.len : b.len; return n_ == 0 || memcmp(a.s, b.s, n_) == 0;',
  'span_eq: prefix (shorter length) instead of equality (Call-ID, From tag, To, Date, Warnings)'),
 ('U2', UA, 'return a.len == n && strncasecmp(a.s, lit, n) == 0;',
  'return strncasecmp(a.s, lit, n) == 0;', 'span_eq_nocase: length check dropped (header/param names by prefix)'),
 ('U3', UA, 'return mine.len == theirs.len && mine.len > COOKIE_LEN &&',
  'return mine.len > COOKIE_LEN && theirs.len > COOKIE_LEN &&', 'branch_eq: length equality dropped'),
 ('U4', UA, '''	    memcmp(mine.s + COOKIE_LEN, theirs.s + COOKIE_LEN,
		mine.len - COOKIE_LEN) == 0;''', '''	    strncasecmp(mine.s + COOKIE_LEN, theirs.s + COOKIE_LEN,
		mine.len - COOKIE_LEN) == 0;''', 'branch_eq: random part compared case-insensitively'),
 ('U5', UA, 'na == nb && span_eq(ma, mb);', 'span_eq(ma, mb);', 'cseq_eq: number not compared'),
 ('U6', UA, 'na == nb && span_eq(ma, mb);', 'na == nb;', 'cseq_eq: method not compared'),
 ('U7', UA, '''	if (!span_eq(f->call_id, span_str(req->call_id)))
		return "Call-ID is not the request's";''', '', 'check_fresh: Call-ID check removed'),
 ('U8', UA, '''	if (!span_eq(tag, span_str(req->from_tag)))
		return "From tag is not the request's";''', '', 'check_fresh: From tag check removed'),
 ('U9', UA, '''	if (!branch_eq(span_str(req->branch), branch))
		return "Via branch is not the request's";''', '', 'check_fresh: Via branch check removed'),
 ('U10', UA, '''	if (f->status != resp->status)
		return "sipfrag status is not the response's";''', '', 'check_same: status check removed'),
 ('U11', UA, '	if (nrw != f->nwarn)', '	if (nrw > f->nwarn)', 'check_same: fewer response Warnings than signed accepted'),
 ('U12', UA, '''	if (resp->date == NULL || !span_eq(f->date, span_str(resp->date)))
		return "Date is not the signed one";''', '', 'check_same: Date equality removed'),
 ('U13', UA, 'if (t > now + (long long)max_skew || t < now - (long long)max_skew)',
  'if (t < now - (long long)max_skew)', 'check_date: future skew check removed'),
 ('U14', UA, 'if (t > now + (long long)max_skew || t < now - (long long)max_skew)',
  'if (t > now + (long long)max_skew)', 'check_date: past skew check removed'),
 ('U15', UA, '''	if (t < req->sent_at - (long long)max_skew)
		return "Date before the request was sent";''', '', 'check_date: signed-before-sent check removed'),
 ('U16', UA, 'if (t > now + (long long)max_skew || t < now - (long long)max_skew)',
  'if (t > now + 60LL * max_skew || t < now - 60LL * max_skew)', 'check_date: skew read as minutes (60x window)'),
 ('U17', UA, '''	if (strlen(req->branch) <= COOKIE_LEN ||
	    strncasecmp(req->branch, COOKIE, COOKIE_LEN) != 0)''', '	if (strlen(req->branch) == 0)',
  'uachal_parse: request branch cookie check removed'),
 ('U18', UA, '	if (resp->status != 495 && resp->status != 496)', '	if (resp->status < 400)',
  'uachal_parse: any 4xx-6xx taken as a challenge'),
 ('U19', UA, '''	if (f->nfrom != 1 || f->nto != 1 || f->ncall_id != 1 ||
	    f->ncseq != 1 || f->ndate != 1)''', '''	if (f->nfrom < 1 || f->nto < 1 || f->ncall_id < 1 ||
	    f->ncseq < 1 || f->ndate < 1)''', 'frag_parse: repeated From/To/Call-ID/CSeq/Date allowed (last wins)'),
 ('U20', UA, '''	} else if (strlen(c->warn_agent) != agent.len ||
	    strncasecmp(c->warn_agent, agent.s, agent.len) != 0) {''', '''	} else if (0) {''',
  'take_warning: Warnings of different agents allowed'),
 ('U21', UA, 'return find_param(v, start, "tag", tag) == 1 && tag->len > 0 ? 0 : -1;',
  'return find_param(v, start, "tag", tag) >= 1 && tag->len > 0 ? 0 : -1;', 'from_tag: a repeated tag parameter accepted'),
 ('U22', UA, '''	return find_param(v, (size_t)(semi - v.s), "branch", branch) == 1 &&''',
  '''	return find_param(v, (size_t)(semi - v.s), "branch", branch) >= 1 &&''', 'via_branch: a repeated branch accepted'),
 ('U23', UA, '''	if (proto == NULL || (strcasecmp(proto, "application/pkcs7-signature")
	    != 0 && strcasecmp(proto, "application/x-pkcs7-signature") != 0))''', '	if (0)',
  'check_layout: multipart/signed protocol not checked'),
 ('U24', UA, '''	f->last_via = last_value(v);''', '''	if (f->nvia == 0) f->last_via = last_value(v);''',
  'frag_header: top Via (a proxy\'s) used instead of the bottom one'),
 # ---- uatrust.c
 ('T1', UT, '''		if (strcasecmp(who->dns[i], host) == 0)''',
  '''		if (strncasecmp(who->dns[i], host, strlen(who->dns[i]) < strlen(host) ? strlen(who->dns[i]) : strlen(host)) == 0)''',
  'names_host: dNSName compared as prefix (shorter length)'),
 ('T2', UT, '''	    strcasecmp(who->uri + 4, host) == 0;''', '''	    strncasecmp(who->uri + 4, host, strlen(host)) == 0;''',
  'names_host: sip: URI compared as prefix of the host\'s length'),
 ('T3', UT, '''		if (strcasecmp(t->allow[i], host) == 0)''', '''		if (strncasecmp(t->allow[i], host, strlen(t->allow[i])) == 0)''',
  'allowed: allow-list entry as prefix of the host'),
 ('T4', UT, '''	if (llabs((long long)signer.signing_time - now) > (long long)t->max_skew)
		return "signingTime outside the allowed skew";''', '', 'check: signingTime skew check removed'),
 ('T5', UT, 'if (llabs((long long)signer.signing_time - now) > (long long)t->max_skew)',
  'if ((long long)signer.signing_time - now > (long long)t->max_skew)', 'check: signingTime only checked for the future (abs dropped)'),
 ('T6', UT, '''	if (out->host[0] == '\\0' || !names_host(&signer, out->host))''', '''	if (out->host[0] == '\\0')''',
  'check: signer need not name the challenging host'),
 ('T7', UT, '''	if (!names_host(&enc, host))
		return "the encryption certificate names another host";''', '', 'uatrust_learned: encryption cert name check removed'),
 ('T8', UT, '''	if (!allowed(t, host))
		return "the proxy is not on the allow-list";''', '', 'uatrust_learned: allow-list check removed'),
 ('T9', UT, 'if (cms_cert_check(t->anchors, der, len, &enc, &why) != CMS_OK)',
  'if (cms_cert_check(t->anchors, der, len, &enc, &why) == CMS_ERROR)', 'uatrust_learned: only hard errors of cms_cert_check refuse'),
 ('T10', UT, '''	    &why) != CMS_OK)
		return why != NULL ? why : "bad signature";''', '''	    &why) == CMS_ERROR)
		return why != NULL ? why : "bad signature";''', 'check: only hard errors of cms_verify refuse'),
 # ---- cms_verify.c
 ('C1', CV, '''	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);''', '''	if (X509_verify_cert(ctx) < 0) {
		int e = X509_STORE_CTX_get_error(ctx);''', 'validate_signer: X509_verify_cert != 1 turned into < 0'),
 ('C2', CV, '	if (!(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {', '	if (0) {', 'validate_signer: keyUsage check removed'),
 ('C3', CV, '		if (c->e[i].expires > now &&\n		    memcmp(c->e[i].hash, hash, 32) == 0) {',
  '		if (memcmp(c->e[i].hash, hash, 32) == 0) {', 'cache_lookup: expired cache entries honoured'),
 ('C4', CV, '		if (c->e[i].expires > now &&\n		    memcmp(c->e[i].hash, hash, 32) == 0) {',
  '		if (c->e[i].expires > now &&\n		    memcmp(c->e[i].hash, hash, 4) == 0) {', 'cache_lookup: hash compared on 4 bytes'),
 ('C5', CV, '''		if (na < expires)
			expires = na;''', '', 'validate_signer: cache outlives the path\'s notAfter'),
 ('C6', CV, '''	if (detached != (CMS_is_detached(cms) == 1)) {''', '''	if (0) {''', 'check_shape: detached/attached not checked'),
 ('C7', CV, '''		if (!strong_digest(OBJ_obj2nid(obj))) {''', '''		if (0) {''', 'check_algorithms: digest strength not checked'),
 ('C8', CV, '''		if (!strong_sigalg(OBJ_obj2nid(obj))) {''', '''		if (0) {''', 'check_algorithms: signature algorithm not checked'),
 ('C9', CV, '''	case NID_sha224:
	case NID_sha256:''', '''	case NID_sha1:
	case NID_sha224:
	case NID_sha256:''', 'strong_digest: SHA-1 admitted'),
 ('C10', CV, '''	    CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {''', '''	    CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) < 0) {''', 'check_signature: CMS_verify != 1 turned into < 0'),
 ('C11', CV, '''	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		cached = false;''', '''	for (i = 0; i < 1; i++) {
		cached = false;''', 'validate_signers: only the first signer\'s path validated'),
 ('C12', CV, '''	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);''', '''	if (X509_verify_cert(ctx) < 0) {
		e = X509_STORE_CTX_get_error(ctx);''', 'cms_cert_check: X509_verify_cert != 1 turned into < 0'),
 ('C13', CV, '''	if (!allows_encryption(x, reason))
		goto out;''', '', 'cms_cert_check: encryption key usage not checked'),
 ('C14', CV, 'if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len)',
  'if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)', 'cms_cert_check: trailing bytes after the certificate accepted'),
 ('C15', CV, 'if (n < 0 || (size_t)n >= bufsz || memchr(d, \'\\0\', (size_t)n))',
  'if (n < 0 || (size_t)n >= bufsz)', 'copy_name: embedded NUL in a SAN accepted'),
 ('C16', CV, '''		if (ku & KU_KEY_ENCIPHERMENT)''', '''		if (ku & (KU_KEY_ENCIPHERMENT | KU_DIGITAL_SIGNATURE))''', 'allows_encryption: RSA digitalSignature-only cert accepted'),
 # C17 is equivalent (docs/reliability.md): CMS_set1_signers_certs() fails
 # (-1) only when the ContentInfo is no SignedData, which check_shape()
 # refused before; and a failure would leave every signer's certificate
 # unset, which the loop after it refuses all the same.
 ('C17', CV, '''	if (r < 0)
		return CMS_UNTRUSTED;
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++)''', '''	(void)r;
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++)''', 'find_signers: CMS_set1_signers_certs failure ignored'),
 # ---- cms_keys.c
 ('K1', CK, '''	if (k->have_crls)
		X509_VERIFY_PARAM_set_flags(param,
		    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);''', '', 'CRL checking flags never set'),
 ('K2', CK, '''		    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);''', '''		    X509_V_FLAG_CRL_CHECK);''', 'CRL_CHECK_ALL dropped (leaf only)'),
 ('K3', CK, '	X509_VERIFY_PARAM_set_auth_level(param, 2);', '', 'auth level 2 not set (weak keys accepted)'),
 ('K4', CK, '	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);', '', 'X509_STRICT not set'),
 ('K5', CK, '	X509_VERIFY_PARAM_set_depth(param, CMS_MAX_CHAIN_DEPTH);', '', 'chain depth limit not set'),
 # ---- label.c
 ('L1', LB, '''		    mine) == NULL && strcmp(mine, host) == 0)''', '''		    mine) == NULL && strncmp(mine, host, strlen(mine) < strlen(host) ? strlen(mine) : strlen(host)) == 0)''',
  'label_host_is_own: prefix (shorter length) instead of equality'),
 ('L2', LB, '	if (nat != 1)', '	if (nat < 1)', 'cid_text_normalise: more than one @ accepted'),
 ('L3', LB, '	return strcmp(na, nb) == 0;', '	return strncmp(na, nb, strlen(na) < strlen(nb) ? strlen(na) : strlen(nb)) == 0;',
  'label_cid_equal: prefix instead of equality'),
 ('L4', LB, '		out[i] = (char)(i > at ? lower(s[i]) : s[i]);', '		out[i] = (char)lower(s[i]);', 'cid_text_normalise: left part lower-cased too (case-insensitive)'),
 ('L5', LB, '	if (ndigits == 0 || port > 65535)', '	if (ndigits == 0)', 'parse_port: range check dropped'),
 ('L6', LB, 'inet_pton(AF_INET6, buf, &a) != 1)', 'inet_pton(AF_INET6, buf, &a) < 0)', 'host_ipv6: inet_pton != 1 turned into < 0'),
 ('L7', LB, '	if (e->ncids == LABEL_MAX_CIDS)', '	if (e->ncids > LABEL_MAX_CIDS)', 'add_cid: off-by-one bound'),
 ('L8', LB, '	if (set->nentries == LABEL_MAX_ENTRIES) {', '	if (set->nentries > LABEL_MAX_ENTRIES) {', 'take_value: off-by-one bound'),
 ('L9', LB, '		for (j = 0; j < e->ncids && n < cap; j++)', '		for (j = 0; j < e->ncids; j++)', 'label_own_cids: cap not checked'),
 ('L10', LB, '	return e->ncids > 0 ? NULL : "label without a cid";', '	return NULL;', 'parse_value: label without cid accepted'),
 ('L11', LB, '	if (len > LABEL_MAX_HOST_LEN)\n		return "host too long";', '', 'host_name: length check dropped'),
 ('L12', LB, '	if (la.len - la.pos < 3 || lower(la.p[la.pos]) != \'c\' ||', '	if (la.len - la.pos < 2 || lower(la.p[la.pos]) != \'c\' ||',
  'comma_continues_cids: off-by-one length check'),
 # ---- policy.c
 ('P1', PO, '''		    (s != NULL && strcmp(list[i], s) == 0))''', '''		    (s != NULL && strncmp(list[i], s, strlen(s)) == 0))''', 'any_exact: value as prefix of a list entry (from_users, methods)'),
 ('P2', PO, '''	return method != NULL && strcmp(method, "ACK") == 0 &&''', '''	return 0 &&''', 'method_matches: ACK no longer covered by the INVITE rule'),
 ('P3', PO, '''	if (!any_source(r->sources, r->nsources, f->source))
		return 0;''', '', 'policy_rule_matches: sources not checked'),
 ('P4', PO, '''	if (r->transports != 0 && (r->transports & (unsigned)f->transport) == 0)
		return 0;''', '', 'policy_rule_matches: transports not checked'),
 ('P5', PO, 'if (f->visible[i] != NULL && strcasecmp(f->visible[i], type) == 0)',
  'if (f->visible[i] != NULL && strncasecmp(f->visible[i], type, strlen(f->visible[i])) == 0)', 'visible: visible type as prefix of the required one'),
 ('P6', PO, '		if (!s->valid || !s->covers_whole)', '		if (!s->covers_whole)', 'integrity_met: invalid signature counted'),
 ('P7', PO, '		if (!s->valid || !s->covers_whole)', '		if (!s->valid)', 'integrity_met: partial signature counted'),
 ('P8', PO, '''		if (r->require_inner_signature && s->over_envelope &&
		    !s->inside_envelope)
			continue;''', '', 'integrity_met: outer signature over the envelope counted'),
 ('P9', PO, '	    (undecipherable && d.nmissing > 0) ||', '', '6a: required type missing with undecipherable parts not challenged'),
 ('P10', PO, '	    (undecipherable && r->require_whole_body)) {', '	    0) {', '6a: whole body required, undecipherable part not challenged'),
 ('P11', PO, '	for (i = 0; i < f->ntargets; i++)\n		if (f->targets[i] == POLICY_TARGET_UNDECIPHERABLE)',
  '	for (i = 0; i + 1 < f->ntargets; i++)\n		if (f->targets[i] == POLICY_TARGET_UNDECIPHERABLE)', 'labelled failure loop off by one (last target ignored)'),
 ('P12', PO, '	for (i = 0; i < r->nprmb_types && d.nmissing < POLICY_MAX_PRMB; i++)', '	for (i = 0; i + 1 < r->nprmb_types && d.nmissing < POLICY_MAX_PRMB; i++)',
  'required types loop off by one (last type ignored)'),
 ('P13', PO, '	for (i = 0; i < f->nsignatures; i++)\n		if (!f->signatures[i].valid)', '	for (i = 0; i + 1 < f->nsignatures; i++)\n		if (!f->signatures[i].valid)',
  'bad signature loop off by one (last signature ignored)'),
 ('P14', PO, '	if (r->require_integrity && !integrity_met(r, f)) {', '	if (0) {', '6d: integrity requirement dropped'),
 ('P15', PO, '	if (!f->is_response && is_method(f, "CANCEL")) {', '	if (is_method(f, "CANCEL") || is_method(f, "ACK")) {', 'ACK exempted like CANCEL'),
 ('P16', PO, '''	if (r->directions != 0 && (r->directions & (f->direction != 0 ?
	    (unsigned)f->direction : (unsigned)POLICY_DIR_OTHER)) == 0)
		return 0;''', '', 'policy_rule_matches: directions not checked'),
]
