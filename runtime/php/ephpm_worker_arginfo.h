/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: dde0a3de11ef7e53f076b95b4f20d12206c44076 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_handle_request, 0, 1, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, handler, IS_CALLABLE, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_fastcgi_finish_request, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_getallheaders, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_Ephpm_Worker_take_request, 0, 0, Ephpm\\Worker\\Envelope, 1)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Ephpm_Worker_send_response, 0, 3, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, status, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, headers, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, body, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_Ephpm_Worker_Envelope_serverVars arginfo_getallheaders

#define arginfo_class_Ephpm_Worker_Envelope_headers arginfo_getallheaders

#define arginfo_class_Ephpm_Worker_Envelope_cookies arginfo_getallheaders

#define arginfo_class_Ephpm_Worker_Envelope_query arginfo_getallheaders

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_Ephpm_Worker_Envelope_parsedBody, 0, 0, IS_ARRAY, 1)
ZEND_END_ARG_INFO()

#define arginfo_class_Ephpm_Worker_Envelope_files arginfo_getallheaders

ZEND_BEGIN_ARG_INFO_EX(arginfo_class_Ephpm_Worker_Envelope_bodyStream, 0, 0, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_Ephpm_Worker_Envelope_rawBody, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(ephpm_handle_request);
ZEND_FUNCTION(fastcgi_finish_request);
ZEND_FUNCTION(getallheaders);
ZEND_FUNCTION(Ephpm_Worker_take_request);
ZEND_FUNCTION(Ephpm_Worker_send_response);
ZEND_METHOD(Ephpm_Worker_Envelope, serverVars);
ZEND_METHOD(Ephpm_Worker_Envelope, headers);
ZEND_METHOD(Ephpm_Worker_Envelope, cookies);
ZEND_METHOD(Ephpm_Worker_Envelope, query);
ZEND_METHOD(Ephpm_Worker_Envelope, parsedBody);
ZEND_METHOD(Ephpm_Worker_Envelope, files);
ZEND_METHOD(Ephpm_Worker_Envelope, bodyStream);
ZEND_METHOD(Ephpm_Worker_Envelope, rawBody);


static const zend_function_entry ext_functions[] = {
	ZEND_FE(ephpm_handle_request, arginfo_ephpm_handle_request)
	ZEND_FE(fastcgi_finish_request, arginfo_fastcgi_finish_request)
	ZEND_FE(getallheaders, arginfo_getallheaders)
	ZEND_NS_FALIAS("Ephpm\\Worker", take_request, Ephpm_Worker_take_request, arginfo_Ephpm_Worker_take_request)
	ZEND_NS_FALIAS("Ephpm\\Worker", send_response, Ephpm_Worker_send_response, arginfo_Ephpm_Worker_send_response)
	ZEND_FE_END
};


static const zend_function_entry class_Ephpm_Worker_Envelope_methods[] = {
	ZEND_ME(Ephpm_Worker_Envelope, serverVars, arginfo_class_Ephpm_Worker_Envelope_serverVars, ZEND_ACC_PUBLIC)
	ZEND_ME(Ephpm_Worker_Envelope, headers, arginfo_class_Ephpm_Worker_Envelope_headers, ZEND_ACC_PUBLIC)
	ZEND_ME(Ephpm_Worker_Envelope, cookies, arginfo_class_Ephpm_Worker_Envelope_cookies, ZEND_ACC_PUBLIC)
	ZEND_ME(Ephpm_Worker_Envelope, query, arginfo_class_Ephpm_Worker_Envelope_query, ZEND_ACC_PUBLIC)
	ZEND_ME(Ephpm_Worker_Envelope, parsedBody, arginfo_class_Ephpm_Worker_Envelope_parsedBody, ZEND_ACC_PUBLIC)
	ZEND_ME(Ephpm_Worker_Envelope, files, arginfo_class_Ephpm_Worker_Envelope_files, ZEND_ACC_PUBLIC)
	ZEND_ME(Ephpm_Worker_Envelope, bodyStream, arginfo_class_Ephpm_Worker_Envelope_bodyStream, ZEND_ACC_PUBLIC)
	ZEND_ME(Ephpm_Worker_Envelope, rawBody, arginfo_class_Ephpm_Worker_Envelope_rawBody, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};

static zend_class_entry *register_class_Ephpm_Worker_Envelope(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Ephpm\\Worker", "Envelope", class_Ephpm_Worker_Envelope_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}
