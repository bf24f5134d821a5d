"""The seed endpoint PUT /pay/pay_for_order/ as a Django REST framework app.

This is the oracle of payorder's DRF parity tests. It is a tiny Django
project in one file: default middleware, TokenAuthentication with
IsAuthenticated, DRF's default renderers and parsers, and an APIView whose
business answers are payorder's documented ones for the fixture orders of
record.py. Run it with Debian's python3-django and
python3-djangorestframework (/usr/bin/python3); record.py serves it with
Django's own WSGI server (the one runserver uses) on 127.0.0.1.
"""
import os
import tempfile

import django
from django.conf import settings

SEED_TOKEN = '706a87288233ea2427cddb8a1bbce29369ac5073'
SEED_BUYER = '15201052252'
OTHER_TOKEN = '0123456789abcdef0123456789abcdef01234567'
OTHER_BUYER = '13800138000'
INACTIVE_TOKEN = '1111111111111111111111111111111111111111'

SEED_ORDER = '12134676899915430002'
OTHER_ORDER = '20261129000000000001'
PAID_ORDER = '20261129000000000002'
CLOSED_ORDER = '20261129000000000003'

# order number -> (buyer, status), as in pay's test fixtures.
ORDERS = {
    SEED_ORDER: (SEED_BUYER, 'unpaid'),
    OTHER_ORDER: (OTHER_BUYER, 'unpaid'),
    PAID_ORDER: (SEED_BUYER, 'paid'),
    CLOSED_ORDER: (SEED_BUYER, 'closed'),
}
CHANNELS = ('alipay', 'wx', 'alipay_wap', 'wx_pub')
ASCII_SPACE = ' \t\n\r\x0b\x0c'


def configure(language):
    db = os.path.join(tempfile.mkdtemp(prefix='drf-oracle-'), 'db.sqlite3')
    settings.configure(
        DEBUG=False,
        SECRET_KEY='oracle-only-not-a-secret',
        ALLOWED_HOSTS=['127.0.0.1', 'localhost'],
        ROOT_URLCONF=__name__,
        LANGUAGE_CODE=language,
        USE_I18N=True,
        USE_TZ=True,
        DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': db}},
        INSTALLED_APPS=[
            'django.contrib.auth',
            'django.contrib.contenttypes',
            'rest_framework',
            'rest_framework.authtoken',
        ],
        # startproject's middleware, less sessions and messages, which the
        # endpoint does not use.
        MIDDLEWARE=[
            'django.middleware.security.SecurityMiddleware',
            'django.middleware.common.CommonMiddleware',
            'django.middleware.csrf.CsrfViewMiddleware',
            'django.middleware.clickjacking.XFrameOptionsMiddleware',
        ],
        REST_FRAMEWORK={
            'DEFAULT_AUTHENTICATION_CLASSES': ['rest_framework.authentication.TokenAuthentication'],
            'DEFAULT_PERMISSION_CLASSES': ['rest_framework.permissions.IsAuthenticated'],
        },
        TEMPLATES=[{'BACKEND': 'django.template.backends.django.DjangoTemplates', 'APP_DIRS': True}],
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.management import call_command
    call_command('migrate', verbosity=0)
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token
    for username, key, active in [(SEED_BUYER, SEED_TOKEN, True), (OTHER_BUYER, OTHER_TOKEN, True),
                                  ('inactive', INACTIVE_TOKEN, False)]:
        user = User.objects.create(username=username, is_active=active)
        Token.objects.create(user=user, key=key)


def envelope(status, message, ch=None):
    body = {'status': status, 'message': message}
    if ch is not None:
        body['ch'] = ch
    return body


def invalid(detail):
    return envelope(-1, '请求参数错误: ' + detail)


def valid_order_no(no):
    return 1 <= len(no) <= 64 and all(c in '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' for c in no)


def scalar(value, allow_int):
    """The text of a field, or None when its JSON type is wrong."""
    if value is None:
        return ''
    if isinstance(value, str):
        return value.strip(ASCII_SPACE)
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def pay_for_order(request):
    from rest_framework.response import Response
    data = request.data
    if not hasattr(data, 'get'):
        return Response(invalid('the body must be a JSON object'))
    order_no = scalar(data.get('order_no'), True)
    if order_no is None:
        return Response(invalid('order_no must be a string or a whole number'))
    channel = scalar(data.get('channel'), False)
    if channel is None:
        return Response(invalid('channel must be a string'))
    if order_no == '':
        return Response(invalid('order_no is required'))
    if not valid_order_no(order_no):
        return Response(invalid('order_no must be 1 to 64 ASCII letters or digits'))
    extra = data.get('extra')
    if extra is not None and not isinstance(extra, dict):
        return Response(envelope(-4, '无效的支付通道'))
    if channel not in CHANNELS:
        return Response(envelope(-4, '无效的支付通道'))
    buyer, status = ORDERS.get(order_no, (None, None))
    if buyer != request.user.username:
        return Response(envelope(-2, '订单不存在'))
    if status == 'paid':
        return Response(envelope(-3, '订单已支付'))
    if status == 'closed':
        return Response(envelope(-3, '订单已关闭'))
    return Response(envelope(0, '', charge(order_no, channel)))


def charge(order_no, channel):
    """The charge the replay's stub Ping++ answers too (../charge.json)."""
    import json
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'charge.json'), encoding='utf-8') as f:
        return json.loads(f.read().replace('ORDER', order_no).replace('CHANNEL', channel))


def urls():
    from django.urls import path
    from rest_framework.views import APIView

    class PayForOrder(APIView):
        def put(self, request):
            return pay_for_order(request)

    return [path('pay/pay_for_order/', PayForOrder.as_view())]


def __getattr__(name):
    if name == 'urlpatterns':
        return urls()
    raise AttributeError(name)
