"""Records the DRF oracle's answers to a battery of requests as golden files.

    /usr/bin/python3 pay/testdata/drf/oracle/record.py

writes pay/testdata/drf/golden_en.json and golden_zh-hans.json (one run of
the oracle per LANGUAGE_CODE, each served by Django's WSGI server on
127.0.0.1). Each case holds the request exactly as sent on the wire (header
values and body as Latin-1 strings, so any byte can be expressed; a body may
repeat a unit to reach Django's limits) and the answer: status, the headers
that matter to clients, and the body. pay's TestDRFGolden replays them
against pay.Handler; it needs no Python.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import oracle  # noqa: E402

T = oracle.SEED_TOKEN
OK_FORM = 'order_no=%s&channel=alipay' % oracle.SEED_ORDER
OK_JSON = '{"order_no":"%s","channel":"alipay"}' % oracle.SEED_ORDER
FORM = 'application/x-www-form-urlencoded'
JSON = 'application/json'
HEADERS = ['Content-Type', 'Allow', 'Vary', 'WWW-Authenticate', 'Location', 'Content-Language']


def utf8(s):
    """A text as the Latin-1 string of its UTF-8 bytes."""
    return s.encode('utf-8').decode('latin-1')


def case(name, method='PUT', path='/pay/pay_for_order/', headers=None, body='', auth='Token ' + T,
         ctype=FORM, repeat='', count=0, suffix=''):
    h = []
    if auth is not None:
        h.append(['Authorization', auth])
    if ctype is not None:
        h.append(['Content-Type', ctype])
    h.extend(headers or [])
    req = {'method': method, 'path': path, 'headers': h, 'body': body}
    if count:
        req.update(repeat=repeat, count=count, suffix=suffix)
    return {'name': name, 'request': req}


def multipart(fields, boundary='BoUnDaRy', newline='\r\n'):
    out = ''
    for disposition, value in fields:
        out += '--' + boundary + newline + 'Content-Disposition: ' + disposition + newline + newline + value + newline
    return out + '--' + boundary + '--' + newline


def field(name, value, extra=''):
    return ('form-data; name="%s"%s' % (name, extra), value)


MP = 'multipart/form-data; boundary=BoUnDaRy'


def battery():
    c = []
    # Authorization: every header form.
    for name, auth in [
        ('NoHeader', None), ('Empty', ''), ('KeywordOnly', 'Token'), ('KeywordSpace', 'Token '),
        ('Lower', 'token ' + T), ('Upper', 'TOKEN ' + T), ('Mixed', 'tOkEn ' + T),
        ('TwoSpaces', 'Token  ' + T), ('Tab', 'Token\t' + T), ('LeadingSpace', ' Token ' + T),
        ('TrailingSpace', 'Token ' + T + ' '), ('TrailingTab', 'Token ' + T + '\t'),
        ('NoSpace', 'Token' + T), ('Spaces', 'Token abc def'), ('ThreeParts', 'Token ' + T + ' x'),
        ('Bearer', 'Bearer ' + T), ('Basic', 'Basic dXNlcjpwYXNz'), ('BasicToken', 'Basic Token ' + T),
        ('TokenKeywordTwice', 'Token Token ' + T),
        ('Unknown', 'Token 9999999999999999999999999999999999999999'), ('Inactive', 'Token ' + oracle.INACTIVE_TOKEN),
        ('Other', 'Token ' + oracle.OTHER_TOKEN), ('TooLong', 'Token ' + T + 'a'), ('Short', 'Token abc'),
        ('NBSPLatin1', 'Token\xa0' + T), ('NBSPUTF8', 'Token' + utf8('\u00a0') + T),
        ('NBSPAfterKey', 'Token ' + T + utf8('\u00a0')), ('IdeographicAfterKey', 'Token ' + T + utf8('\u3000')),
        ('IdeographicBetween', 'Token' + utf8('\u3000') + T), ('NELLatin1', 'Token\x85' + T),
        ('NELAfterKeyLatin1', 'Token ' + T + '\x85'), ('FileSepAfterKey', 'Token ' + T + '\x1c'),
        ('EmSpaceUTF8', 'Token' + utf8('\u2003') + T), ('InvalidUTF8', 'Token \xff\xfe'),
        ('Latin1Key', 'Token caf\xe9'), ('UTF8Key', 'Token ' + utf8('café')), ('NonASCIIKeyword', utf8('Tökén ') + T),
        ('Comma', 'Token ' + T + ','), ('Quoted', 'Token "' + T + '"'),
    ]:
        c.append(case('Auth/' + name, auth=auth, body=OK_FORM))
    c.append(case('Auth/Duplicate', auth=None, body=OK_FORM, headers=[['Authorization', 'Token ' + T], ['Authorization', 'Token ' + T]]))
    c.append(case('Auth/DuplicateBearerFirst', auth=None, body=OK_FORM, headers=[['Authorization', 'Bearer x'], ['Authorization', 'Token ' + T]]))
    c.append(case('Auth/DuplicateEmptySecond', auth=None, body=OK_FORM, headers=[['Authorization', 'Token ' + T], ['Authorization', '']]))
    c.append(case('Auth/LowercaseHeaderName', auth=None, body=OK_FORM, headers=[['authorization', 'Token ' + T]]))
    # Methods.
    for m in ['GET', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'FOO', 'put', 'Put', 'get', 'options']:
        c.append(case('Method/' + m, method=m, body=OK_FORM if m.upper() in ('PUT', 'POST', 'PATCH') else ''))
    for m in ['GET', 'OPTIONS', 'HEAD', 'DELETE']:
        c.append(case('Method/%s/NoAuth' % m, method=m, auth=None))
        c.append(case('Method/%s/BadToken' % m, method=m, auth='Token nope'))
    c.append(case('Method/OPTIONS/WithBody', method='OPTIONS', body='{"x":', ctype=JSON))
    c.append(case('Method/OPTIONS/Accept406', method='OPTIONS', headers=[['Accept', 'application/xml']]))
    # Content types and their parameters.
    for name, ct, body in [
        ('None', None, OK_FORM), ('NoneEmptyBody', None, ''), ('Empty', '', OK_FORM),
        ('FormCharset', FORM + '; charset=utf-8', OK_FORM), ('FormCharsetUpper', FORM + '; charset=UTF-8', OK_FORM),
        ('FormTrailingSemicolon', FORM + ';', OK_FORM), ('FormBadParam', FORM + '; charset', OK_FORM),
        ('FormBadParam2', FORM + ';;charset=utf-8', OK_FORM), ('FormSpaces', ' ' + FORM + ' ', OK_FORM),
        ('FormUpper', 'APPLICATION/X-WWW-FORM-URLENCODED', OK_FORM), ('FormQuotedCharset', FORM + '; charset="utf-8"', OK_FORM),
        ('FormUnknownCharset', FORM + '; charset=nope', OK_FORM), ('FormLatin1', FORM + '; charset=latin-1', OK_FORM),
        ('FormOtherParam', FORM + '; foo=bar', OK_FORM), ('FormNoSlash', 'application', OK_FORM),
        ('NonASCII', utf8('application/jsön'), OK_JSON),
        ('NonASCIIParam', JSON + '; charset=' + utf8('ütf-8'), OK_JSON), ('QuotedSemicolon', FORM + '; x="a;b"; charset=utf-8', OK_FORM),
        ('MultipartBoundarySpace', 'multipart/form-data; boundary="Bo UnDaRy"', multipart([field('order_no', oracle.SEED_ORDER), field('channel', 'alipay')], boundary='Bo UnDaRy')),
        ('MultipartBoundaryLong', 'multipart/form-data; boundary=' + 'b' * 201, multipart([field('order_no', oracle.SEED_ORDER)], boundary='b' * 201)),
        ('MultipartLeadingSpace', ' ' + MP, multipart([field('order_no', oracle.SEED_ORDER), field('channel', 'alipay')])),
        ('JSON', JSON, OK_JSON), ('JSONCharset', JSON + '; charset=utf-8', OK_JSON), ('JSONUpper', 'Application/JSON', OK_JSON),
        ('JSONTrailingSemicolon', JSON + ';', OK_JSON), ('JSONBadParam', JSON + '; charset', OK_JSON),
        ('JSONLatin1', JSON + '; charset=latin-1', OK_JSON), ('JSONUnknownCharset', JSON + '; charset=bogus', OK_JSON),
        ('JSONASCIICharset', JSON + '; charset=us-ascii', OK_JSON), ('JSONSuffix', 'application/vnd.api+json', OK_JSON),
        ('JSONPatch', 'application/json-patch+json', OK_JSON), ('TextPlain', 'text/plain', OK_FORM),
        ('TextJSON', 'text/json', OK_JSON), ('Star', '*/*', OK_JSON), ('AppStar', 'application/*', OK_JSON),
        ('StarForm', '*/*', OK_FORM), ('XML', 'application/xml', '<a/>'), ('OctetStream', 'application/octet-stream', OK_FORM),
        ('Multipart', MP, multipart([field('order_no', oracle.SEED_ORDER), field('channel', 'alipay')])),
        ('MultipartNoBoundary', 'multipart/form-data', multipart([field('order_no', oracle.SEED_ORDER)])),
        ('MultipartEmptyBoundary', 'multipart/form-data; boundary=', multipart([field('order_no', oracle.SEED_ORDER)])),
        ('MultipartQuotedBoundary', 'multipart/form-data; boundary="BoUnDaRy"', multipart([field('order_no', oracle.SEED_ORDER), field('channel', 'wx')])),
        ('MultipartWrongBoundary', 'multipart/form-data; boundary=other', multipart([field('order_no', oracle.SEED_ORDER)])),
        ('MultipartMixed', 'multipart/mixed; boundary=BoUnDaRy', multipart([field('order_no', oracle.SEED_ORDER)])),
        ('DuplicateHeader', None, OK_FORM),
    ]:
        hs = [['Content-Type', JSON], ['Content-Type', FORM]] if name == 'DuplicateHeader' else None
        c.append(case('ContentType/' + name, ctype=ct, body=body, headers=hs))
    # Accept negotiation and ?format=.
    for name, accept in [
        ('Star', '*/*'), ('JSON', JSON), ('JSONIndent', JSON + '; indent=4'), ('JSONIndent0', JSON + '; indent=0'),
        ('JSONIndentBig', JSON + '; indent=20'), ('JSONIndentBad', JSON + '; indent=x'), ('JSONCharset', JSON + '; charset=utf-8'),
        ('JSONQ', JSON + ';q=0.5'), ('JSONQZero', JSON + '; q=0'), ('StarQ', '*/*;q=0.8'), ('AppStar', 'application/*'),
        ('XML', 'application/xml'), ('XMLThenStar', 'application/xml, */*'), ('ImageStar', 'image/png,*/*;q=0.1'),
        ('TextPlain', 'text/plain'), ('Empty', ''), ('Garbage', 'garbage'), ('CommaOnly', ','),
        ('JSONUpper', 'APPLICATION/JSON'), ('Browser', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'),
        ('XMLJSON', 'application/xml, application/json'), ('JSONParam', JSON + '; version=2'),
    ]:
        c.append(case('Accept/' + name, body=OK_FORM, headers=[['Accept', accept]]))
        if name in ('XML', 'JSONIndent', 'StarQ'):
            c.append(case('Accept/%s/NoAuth' % name, auth=None, body=OK_FORM, headers=[['Accept', accept]]))
            c.append(case('Accept/%s/GET' % name, method='GET', headers=[['Accept', accept]]))
    c.append(case('Accept/JSONIndent/Success', body=OK_FORM, headers=[['Accept', JSON + '; indent=2']]))
    c.append(case('Accept/Duplicate', body=OK_FORM, headers=[['Accept', 'application/xml'], ['Accept', JSON]]))
    for name, q in [('json', 'format=json'), ('xml', 'format=xml'), ('JSONUpper', 'format=JSON'), ('empty', 'format='),
                    ('twice', 'format=json&format=xml'), ('other', 'foo=bar'), ('xmlNoAuth', 'format=xml')]:
        c.append(case('Format/' + name, path='/pay/pay_for_order/?' + q, body=OK_FORM,
                      auth=None if name == 'xmlNoAuth' else 'Token ' + T))
    c.append(case('Format/xmlAcceptJSON', path='/pay/pay_for_order/?format=xml', body=OK_FORM, headers=[['Accept', JSON]]))
    c.append(case('Format/jsonAcceptXML', path='/pay/pay_for_order/?format=json', body=OK_FORM, headers=[['Accept', 'application/xml']]))
    # Paths below the endpoint.
    for name, p in [('Below', '/pay/pay_for_order/x'), ('BelowSlash', '/pay/pay_for_order/x/'),
                    ('DoubleSlash', '/pay/pay_for_order//'), ('Query', '/pay/pay_for_order/?a=b&a=c'),
                    ('EncodedSlash', '/pay/pay_for_order/%2F'), ('BelowNoAuth', '/pay/pay_for_order/x')]:
        c.append(case('Path/' + name, path=p, body=OK_FORM, auth=None if name.endswith('NoAuth') else 'Token ' + T))
    # Form bodies.
    so = oracle.SEED_ORDER
    for name, body in [
        ('DuplicateChannel', 'order_no=%s&channel=wx&channel=alipay' % so),
        ('DuplicateChannelBadLast', 'order_no=%s&channel=alipay&channel=bitcoin' % so),
        ('DuplicateOrderNo', 'order_no=1&order_no=%s&channel=alipay' % so),
        ('DuplicateOrderNoEmptyLast', 'order_no=%s&order_no=&channel=alipay' % so),
        ('UnescapedPercent', OK_FORM + '&note=100%'), ('BadEscape', OK_FORM + '&note=%zz'),
        ('PercentInValue', 'order_no=%s&channel=ali%%pay' % so), ('EscapedValues', 'order_no=%31%32134676899915430002&channel=%61lipay'),
        ('Plus', 'order_no=%s&channel=+alipay+' % so), ('EncodedSpace', 'order_no=%%20%s%%20&channel=alipay' % so),
        ('Semicolon', 'order_no=%s;channel=alipay' % so), ('NoEquals', OK_FORM + '&flag'), ('EmptyKey', OK_FORM + '&=x'),
        ('EmptyPairs', '&&' + OK_FORM + '&&'), ('BOM', '\xef\xbb\xbf' + OK_FORM), ('InvalidUTF8Value', OK_FORM + '&note=\xff'),
        ('InvalidUTF8OrderNo', 'order_no=%s\xff&channel=alipay' % so), ('EscapedInvalidUTF8', 'order_no=%s%%FF&channel=alipay' % so),
        ('EncodedNUL', 'order_no=%s%%00&channel=alipay' % so), ('RawNUL', 'order_no=%s\x00&channel=alipay' % so),
        ('EncodedAmpersand', 'order_no=%s%%26channel%%3Dalipay' % so), ('Newline', OK_FORM + '\n'), ('CRLF', OK_FORM + '\r\n'),
        ('LeadingNewline', '\n' + OK_FORM), ('Missing', 'channel=alipay'), ('MissingChannel', 'order_no=' + so),
        ('Empty', ''), ('Whitespace', '   '), ('OnlyAmpersand', '&'), ('JSONInForm', OK_JSON),
        ('UpperKey', 'ORDER_NO=%s&channel=alipay' % so), ('ExtraField', OK_FORM + '&extra[success_url]=https://x.example/'),
        ('ChannelWx', 'order_no=%s&channel=wx' % so), ('BadChannel', 'order_no=%s&channel=bitcoin' % so),
        ('NotEnabledChannel', 'order_no=%s&channel=upacp' % so), ('UnknownOrder', 'order_no=99999999999&channel=alipay'),
        ('OtherBuyersOrder', 'order_no=%s&channel=alipay' % oracle.OTHER_ORDER), ('PaidOrder', 'order_no=%s&channel=alipay' % oracle.PAID_ORDER),
        ('ClosedOrder', 'order_no=%s&channel=alipay' % oracle.CLOSED_ORDER), ('LongOrderNo', 'order_no=%s&channel=alipay' % ('1' * 65)),
        ('OrderNo64', 'order_no=%s&channel=alipay' % ('1' * 64)), ('NonASCIIOrderNo', 'order_no=%s&channel=alipay' % utf8('１２３')),
        ('DashOrderNo', 'order_no=2026-11&channel=alipay'), ('SpacedOrderNo', 'order_no=+%s+&channel=alipay' % so),
    ]:
        c.append(case('Form/' + name, body=body))
    c.append(case('Form/Fields1000', body=OK_FORM + '&', repeat='f=1&', count=997, suffix='f=1'))
    c.append(case('Form/Fields1001', body=OK_FORM + '&', repeat='f=1&', count=998, suffix='f=1'))
    c.append(case('Form/Fields1000Trailing', body=OK_FORM + '&', repeat='f=1&', count=998))
    c.append(case('Form/Fields1001Empty', body=OK_FORM, repeat='&', count=5000))
    c.append(case('Form/Size2MB', body=OK_FORM + '&pad=', repeat='x', count=2 * 1024 * 1024))
    c.append(case('Form/Size2621440', body=OK_FORM + '&pad=', repeat='x', count=2621440 - len(OK_FORM) - 5))
    c.append(case('Form/Size2621441', body=OK_FORM + '&pad=', repeat='x', count=2621440 - len(OK_FORM) - 4))
    c.append(case('Form/Size3MB', body=OK_FORM + '&pad=', repeat='x', count=3 * 1024 * 1024))
    # Multipart bodies.
    for name, body, ct in [
        ('Duplicate', multipart([field('order_no', so), field('channel', 'wx'), field('channel', 'alipay')]), MP),
        ('DuplicateOrderNo', multipart([field('order_no', '1'), field('order_no', so), field('channel', 'alipay')]), MP),
        ('LF', multipart([field('order_no', so), field('channel', 'alipay')], newline='\n'), MP),
        ('FileOrderNo', multipart([field('order_no', so, '; filename="a.txt"'), field('channel', 'alipay')]), MP),
        ('NoName', multipart([('form-data', so), field('channel', 'alipay')]), MP),
        ('UnquotedName', multipart([('form-data; name=order_no', so), field('channel', 'alipay')]), MP),
        ('Preamble', 'preamble\r\n' + multipart([field('order_no', so), field('channel', 'alipay')]), MP),
        ('NoClose', multipart([field('order_no', so), field('channel', 'alipay')])[:-len('--BoUnDaRy--\r\n')], MP),
        ('Garbage', 'garbage', MP), ('Empty', '', MP),
        ('Extra', multipart([field('order_no', so), field('channel', 'wx_pub'), field('extra[open_id]', 'o7x')]), MP),
        ('InvalidUTF8', multipart([field('order_no', so + '\xff'), field('channel', 'alipay')]), MP),
        ('Trailing', multipart([field('order_no', so), field('channel', 'alipay')]) + 'epilogue', MP),
        ('ValueSpaces', multipart([field('order_no', ' ' + so + ' '), field('channel', 'alipay')]), MP),
        ('Charset', multipart([field('order_no', so), field('channel', 'alipay')]), MP + '; charset=utf-8'),
        ('Base64Part', '--BoUnDaRy\r\nContent-Disposition: form-data; name="order_no"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
         + base64.b64encode(so.encode()).decode() + '\r\n' + multipart([field('channel', 'alipay')]), MP),
        ('CaseSensitiveType', multipart([field('order_no', so), field('channel', 'alipay')]), 'Multipart/Form-Data; boundary=BoUnDaRy'),
        ('NameSpaces', multipart([field(' order_no ', so), field('channel', 'alipay')]), MP),
        ('HeaderCase', '--BoUnDaRy\r\ncontent-disposition: FORM-DATA; NAME="order_no"\r\n\r\n%s\r\n' % so + multipart([field('channel', 'alipay')]), MP),
        ('EmptyFilename', multipart([field('order_no', so, '; filename=""'), field('channel', 'alipay')]), MP),
        ('FileChannel', multipart([field('order_no', so), field('channel', 'alipay'), field('channel', 'x', '; filename="c"')]), MP),
        ('PartContentType', '--BoUnDaRy\r\nContent-Disposition: form-data; name="order_no"\r\nContent-Type: text/plain; charset=latin-1\r\n\r\n%s\r\n' % so + multipart([field('channel', 'alipay')]), MP),
        ('BadBase64', '--BoUnDaRy\r\nContent-Disposition: form-data; name="order_no"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + so + '\r\n' + multipart([field('channel', 'alipay')]), MP),
        ('CRBoundary', multipart([field('order_no', so), field('channel', 'alipay')]).replace('\r\n--', '\r--'), MP),
        ('BoundaryInValue', multipart([field('order_no', so + '--BoUnDaRyx'), field('channel', 'alipay')]), MP),
        ('RFC2231Name', multipart([("form-data; name*=UTF-8''order_no", so), field('channel', 'alipay')]), MP),
    ]:
        c.append(case('Multipart/' + name, body=body, ctype=ct))
    mp_head = multipart([field('order_no', so), field('channel', 'alipay')])[:-len('--BoUnDaRy--\r\n')]
    c.append(case('Multipart/Fields1000', ctype=MP, body=mp_head, repeat='--BoUnDaRy\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n',
                  count=998, suffix='--BoUnDaRy--\r\n'))
    c.append(case('Multipart/Fields1001', ctype=MP, body=mp_head, repeat='--BoUnDaRy\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n',
                  count=999, suffix='--BoUnDaRy--\r\n'))
    c.append(case('Multipart/Size2MB', ctype=MP, body=mp_head + '--BoUnDaRy\r\nContent-Disposition: form-data; name="pad"\r\n\r\n',
                  repeat='x', count=2 * 1024 * 1024, suffix='\r\n--BoUnDaRy--\r\n'))
    c.append(case('Multipart/Size3MB', ctype=MP, body=mp_head + '--BoUnDaRy\r\nContent-Disposition: form-data; name="pad"\r\n\r\n',
                  repeat='x', count=3 * 1024 * 1024, suffix='\r\n--BoUnDaRy--\r\n'))
    c.append(case('Multipart/File3MB', ctype=MP, body=mp_head + '--BoUnDaRy\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\n',
                  repeat='x', count=3 * 1024 * 1024, suffix='\r\n--BoUnDaRy--\r\n'))
    fpart = '--BoUnDaRy\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n\r\nx\r\n'
    c.append(case('Multipart/Files100', ctype=MP, body=mp_head, repeat=fpart, count=100, suffix='--BoUnDaRy--\r\n'))
    c.append(case('Multipart/Files101', ctype=MP, body=mp_head, repeat=fpart, count=101, suffix='--BoUnDaRy--\r\n'))
    c.append(case('Multipart/Base64FileBad', ctype=MP, body=mp_head + '--BoUnDaRy\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n'
                  'Content-Transfer-Encoding: base64\r\n\r\nabcde\r\n--BoUnDaRy--\r\n'))
    c.append(case('Multipart/Base64File', ctype=MP, body=mp_head + '--BoUnDaRy\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n'
                  'Content-Transfer-Encoding: base64\r\n\r\nYWJj\r\n--BoUnDaRy--\r\n'))
    c.append(case('Multipart/LongHeaders', ctype=MP, body='--BoUnDaRy\r\nContent-Disposition: form-data; name="order_no"\r\nX-Pad: ' + 'p' * 1100
                  + '\r\n\r\n' + so + '\r\n' + multipart([field('channel', 'alipay')])))
    limit_pad = 2621440 - len(so) - len('order_no') - 2 - len('alipay') - len('channel') - 2 - len('pad') - 2
    c.append(case('Multipart/FieldDataAtLimit', ctype=MP, body=mp_head + '--BoUnDaRy\r\nContent-Disposition: form-data; name="pad"\r\n\r\n',
                  repeat='x', count=limit_pad, suffix='\r\n--BoUnDaRy--\r\n'))
    c.append(case('Multipart/FieldDataOverLimit', ctype=MP, body=mp_head + '--BoUnDaRy\r\nContent-Disposition: form-data; name="pad"\r\n\r\n',
                  repeat='x', count=limit_pad + 1, suffix='\r\n--BoUnDaRy--\r\n'))
    c.append(case('Multipart/Latin1Charset', ctype=MP + '; charset=latin-1', body=multipart([field('order_no', so), field('channel', 'alipay'), field('n', 'caf\xe9')])))
    c.append(case('Query/Fields1000', path='/pay/pay_for_order/?' + '&'.join(['a=1'] * 1000), body=OK_FORM))
    c.append(case('Query/Fields1001', path='/pay/pay_for_order/?' + '&'.join(['a=1'] * 1001), body=OK_FORM))
    c.append(case('Query/FormatEscaped', path='/pay/pay_for_order/?format=%78ml', body=OK_FORM))
    c.append(case('Accept/NonASCII', body=OK_FORM, headers=[['Accept', utf8('application/jsön')]]))
    c.append(case('Accept/NonASCIIParam', body=OK_FORM, headers=[['Accept', 'application/json; ' + utf8('ä') + '=1']]))
    c.append(case('Form/Latin1Escapes', ctype=FORM + '; charset=latin-1', body=OK_FORM + '&n=caf%E9'))
    c.append(case('Form/ExtraPlain', body=OK_FORM + '&extra=x'))
    # JSON bodies.
    for name, body in [
        ('Number', '{"order_no":%s,"channel":"alipay"}' % so), ('SeedExample', '{"order_no":%s,"channel":"alipay",}' % so),
        ('Whitespace', '   '), ('Newlines', '\n\n'), ('Empty', ''), ('Null', 'null'), ('Array', '[]'), ('String', '"x"'),
        ('NumberBody', '1'), ('TrailingGarbage', OK_JSON + 'x'), ('TrailingObject', OK_JSON + '{}'),
        ('TrailingWhitespace', OK_JSON + ' \n\t'), ('LeadingWhitespace', '\n  ' + OK_JSON), ('BOM', '\xef\xbb\xbf' + OK_JSON),
        ('NaN', '{"order_no":NaN,"channel":"alipay"}'), ('Infinity', '{"order_no":Infinity}'), ('MinusInfinity', '{"x":-Infinity}'),
        ('BigExponent', '{"order_no":1e999,"channel":"alipay"}'), ('Float', '{"order_no":1.5,"channel":"alipay"}'),
        ('FloatWhole', '{"order_no":1.0,"channel":"alipay"}'), ('Negative', '{"order_no":-5,"channel":"alipay"}'),
        ('True', '{"order_no":true,"channel":"alipay"}'), ('OrderNoObject', '{"order_no":{},"channel":"alipay"}'),
        ('OrderNoArray', '{"order_no":["%s"],"channel":"alipay"}' % so), ('ChannelNumber', '{"order_no":"%s","channel":1}' % so),
        ('ChannelNull', '{"order_no":"%s","channel":null}' % so), ('DuplicateKey', '{"order_no":"1","order_no":"%s","channel":"alipay"}' % so),
        ('Escapes', '{"order_no":"\\u0031\\u0032134676899915430002","channel":"\\u0061lipay"}'),
        ('LoneSurrogate', '{"order_no":"\\ud800","channel":"alipay"}'), ('BadEscape', '{"order_no":"\\x"}'),
        ('BadUnicodeEscape', '{"order_no":"\\u12"}'), ('ControlChar', '{"order_no":"a\x01b"}'), ('RawTab', '{"order_no":"a\tb"}'),
        ('InvalidUTF8', '{"order_no":"\xff","channel":"alipay"}'), ('InvalidUTF8Continuation', '{"x":"\xc3\x28"}'),
        ('TruncatedUTF8', '{"x":"\xe4\xb8"}'), ('Overlong', '{"x":"\xc0\xaf"}'), ('UTF8Text', '{"x":"%s"}' % utf8('订单'), ),
        ('Unterminated', '{"order_no":"abc'), ('MissingColon', '{"order_no" "x"}'), ('MissingComma', '{"a":1 "b":2}'),
        ('SingleQuotes', "{'order_no':'x'}"), ('UnquotedKey', '{order_no:1}'), ('TrailingCommaArray', '{"a":[1,]}'),
        ('Truncated', '{"order_no":'), ('Multiline', '{\n"order_no":\n}'), ('ExtraObject', '{"order_no":"%s","channel":"wx_pub","extra":{"open_id":"o7x"}}' % so),
        ('ExtraString', '{"order_no":"%s","channel":"alipay","extra":"x"}' % so), ('ExtraNull', '{"order_no":"%s","channel":"alipay","extra":null}' % so),
        ('LeadingZero', '{"order_no":012}'), ('PlusNumber', '{"order_no":+1}'), ('HexNumber', '{"order_no":0x1}'),
        ('BigInt', '{"order_no":%s,"channel":"alipay"}' % ('9' * 65)), ('NULEscape', '{"order_no":"%s\\u0000","channel":"alipay"}' % so),
        ('Comment', '/* c */' + OK_JSON), ('Unicode2028', '{"order_no":"%s","channel":"alipay","note":"%s"}' % (so, utf8('\u2028'))),
        ('NonBreakingSpaceWS', utf8('\u00a0') + OK_JSON), ('FormInJSON', OK_FORM), ('Latin1Text', '{"x":"caf\xe9"}'),
    ]:
        c.append(case('JSON/' + name, body=body, ctype=JSON))
    c.append(case('JSON/Latin1Charset', body='{"order_no":"%s","channel":"alipay","n":"caf\xe9"}' % so, ctype=JSON + '; charset=latin-1'))
    c.append(case('JSON/Size2MB', ctype=JSON, body='{"order_no":"%s","channel":"alipay","pad":"' % so, repeat='x', count=2 * 1024 * 1024, suffix='"}'))
    c.append(case('JSON/Size3MB', ctype=JSON, body='{"order_no":"%s","channel":"alipay","pad":"' % so, repeat='x', count=3 * 1024 * 1024, suffix='"}'))
    c.append(case('JSON/HugeInt', ctype=JSON, body='{"order_no":', repeat='1', count=5000, suffix='}'))
    c.append(case('JSON/Int4300', ctype=JSON, body='{"order_no":', repeat='1', count=4300, suffix='}'))
    c.append(case('JSON/TruncatedUTF8AtEnd', ctype=JSON, body=OK_JSON + '\xe4\xb8'))
    c.append(case('JSON/InvalidUTF8AtEnd', ctype=JSON, body=OK_JSON + '\xff'))
    c.append(case('JSON/ASCIICharsetError', ctype=JSON + '; charset=ascii', body='{"x":"caf\xe9"}'))
    c.append(case('JSON/UTF8Charset4Byte', ctype=JSON, body='{"order_no":"%s","x":"%s"}' % (so, utf8('\U0001F600'))))
    c.append(case('JSON/Surrogates', ctype=JSON, body='{"x":"\\ud83d\\ude00","order_no":"%s","channel":"wx"}' % so))
    c.append(case('JSON/TooDeep', ctype=JSON, body='{"order_no":"%s","channel":"alipay","d":' % so, repeat='[', count=5000, suffix=']' * 5000 + '}'))
    c.append(case('JSON/Deep', ctype=JSON, body='{"order_no":"%s","channel":"alipay","d":' % so, repeat='[', count=100, suffix=']' * 100 + '}'))
    return c


def raw_request(req):
    body = (req['body'] + req.get('repeat', '') * req.get('count', 0) + req.get('suffix', '')).encode('latin-1')
    lines = ['%s %s HTTP/1.1' % (req['method'], req['path']), 'Host: 127.0.0.1']
    for k, v in req['headers']:
        lines.append('%s: %s' % (k, v))
    lines.append('Content-Length: %d' % len(body))
    lines.append('Connection: close')
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


def send(port, raw):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(raw)
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
    s.close()
    data = b''.join(chunks)
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split(' ')[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status, headers, body


def record(language):
    import oracle
    oracle.configure(language)
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    httpd = WSGIServer(('127.0.0.1', 0), Quiet)
    httpd.set_app(get_wsgi_application())
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    out = []
    for cs in battery():
        req = cs['request']
        raw = raw_request(req)
        status, headers, body = send(port, raw)
        res = {'status': status, 'headers': {k: ', '.join(headers[k.lower()]) for k in HEADERS if k.lower() in headers}}
        try:
            res['body'] = body.decode('utf-8')
        except UnicodeDecodeError:
            res['body_b64'] = base64.b64encode(body).decode()
        out.append({'name': cs['name'], 'request': req, 'response': res})
    httpd.shutdown()
    return out


def main():
    if len(sys.argv) == 2:
        json.dump(record(sys.argv[1]), sys.stdout, ensure_ascii=False)
        return
    import django
    import rest_framework
    for language in ['en', 'zh-hans']:
        got = subprocess.run([sys.executable, __file__, language], check=True, capture_output=True).stdout
        cases = json.loads(got)
        doc = {'oracle': 'Django %s, Django REST framework %s, Python %s, LANGUAGE_CODE=%r' % (
            django.get_version(), rest_framework.VERSION, sys.version.split()[0], language), 'cases': cases}
        with open(os.path.join(OUT, 'golden_%s.json' % language), 'w', encoding='utf-8') as f:
            f.write('{"oracle": %s,\n"cases": [\n' % json.dumps(doc['oracle']))
            f.write(',\n'.join(json.dumps(x, ensure_ascii=False) for x in cases))
            f.write('\n]}\n')


if __name__ == '__main__':
    main()
